"""OpenTela stand-in: `otela start --bootstrap.addr A [--service.name llm --service.port P] [labels]
--subprocess "CMD"`.

Like the real binary it splits CMD on whitespace and runs it without a shell (so job scripts stage
their command in a file and pass `bash FILE`), and exits with the child's exit code. It records what
it was given (labels, service, bootstrap, command, peer id) as JSON in
  $SML_OTELA_RECORD_DIR/otela-<jobid>-<host>.json   (default directory /tmp)
and serves GET /v1/self on 127.0.0.1:8092 ($SML_OTELA_PORT) with the same record.

Labels are accepted in every form a renderer might use: `--label k=v` (repeatable), `--label=k=v`,
`--labels k=v[,k=v]`, `--service.label(s) …`, `--label.k v`, `--label.k=v`.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .common import bind_listener, die, hostname, is_addr_in_use
from .serving import adopt_socket

BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
LABEL_FLAGS = ('--label', '--service.label', '-l')  # one k=v each (the value may hold commas)
LABEL_LIST_FLAGS = ('--labels', '--service.labels')  # k=v[,k=v…]
VALUE_FLAGS = ('--bootstrap.addr', '--service.name', '--service.port', '--subprocess', '--mode', '--seed',
               '--public-addr', '--log-level', '--tcpport', '--udpport', '--port', '--config')


def peer_id(seed):
    number = int.from_bytes(hashlib.sha256(seed.encode('utf-8')).digest(), 'big')
    chars = []
    while number and len(chars) < 44:
        number, rest = divmod(number, 58)
        chars.append(BASE58[rest])
    return 'Qm' + ''.join(chars)


def split_label(text, labels):
    key, eq, value = text.partition('=')
    if eq and key:
        labels[key.strip()] = value


def parse(argv):
    """Returns (command, record) or raises ValueError with a usage message."""
    if not argv or argv[0] != 'start':
        raise ValueError('usage: otela start --bootstrap.addr ADDR [--service.name NAME --service.port PORT] '
                         '[--label k=v …] --subprocess "CMD"')
    labels, options, extra = {}, {}, []
    i, rest = 0, argv[1:]
    while i < len(rest):
        token = rest[i]
        name, has_eq, inline = token.partition('=')

        def value():
            nonlocal i
            if has_eq:
                return inline
            if i + 1 >= len(rest):
                raise ValueError('flag needs an argument: %s' % name)
            i += 1
            return rest[i]

        if name in LABEL_FLAGS:
            split_label(value(), labels)
        elif name in LABEL_LIST_FLAGS:
            for item in value().split(','):
                split_label(item, labels)
        elif name.startswith('--label.') or name.startswith('--labels.'):
            labels[name.split('.', 1)[1]] = value()
        elif name in VALUE_FLAGS:
            options[name.lstrip('-')] = value()
        elif token.startswith('-'):
            if has_eq or (i + 1 < len(rest) and not rest[i + 1].startswith('-')):
                options[name.lstrip('-')] = value()
            else:
                options[name.lstrip('-')] = True
        else:
            extra.append(token)
        i += 1
    command = options.get('subprocess')
    if not command or not str(command).strip():
        raise ValueError('--subprocess is required: the command otela runs and supervises')
    if extra:
        raise ValueError('unexpected arguments: %s' % ' '.join(extra))
    return command, labels, options


def record_path():
    job = os.environ.get('SLURM_JOB_ID', 'nojob')
    directory = os.environ.get('SML_OTELA_RECORD_DIR', '/tmp')
    return os.path.join(directory, 'otela-%s-%s.json' % (job, hostname()))


def write_record(record):
    path = record_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = '%s.%d.tmp' % (path, os.getpid())
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)
    return path


def serve_self(record):
    port = int(os.environ.get('SML_OTELA_PORT', '8092'))
    try:
        sock = bind_listener('127.0.0.1', port)
    except OSError as error:
        if is_addr_in_use(error):
            print('otela: warning: 127.0.0.1:%d is already in use (another otela on this node?); /v1/self is '
                  'served by that one' % port, file=sys.stderr)
            return
        raise

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *_args):
            pass

        def do_GET(self):
            if self.path.split('?')[0] in ('/v1/self', '/v1/dnt/self'):
                data = json.dumps(record).encode('utf-8')
                status = 200
            else:
                data, status = b'{"error": "not found"}', 404
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    server = adopt_socket(Server, sock, Handler)
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True).start()


def cli(argv):
    if argv and argv[0] == 'gateway':
        from .gateway import main
        main(argv[1:])
        return
    try:
        command, labels, options = parse(argv)
    except ValueError as error:
        print('otela: %s' % error, file=sys.stderr)
        die(2)
    host = hostname()
    job = os.environ.get('SLURM_JOB_ID', '')
    argv_to_run = str(command).split()  # the real binary splits on whitespace, no shell
    record = {
        'id': peer_id('%s/%s/%d/%f' % (host, job, os.getpid(), time.time())),
        'host': host,
        'slurm_job_id': job,
        'bootstrap': options.get('bootstrap.addr'),
        'service': {'name': options.get('service.name'), 'port': options.get('service.port')}
        if options.get('service.name') or options.get('service.port') else None,
        'labels': labels,
        'subprocess': command,
        'argv': argv_to_run,
        'options': {k: v for k, v in options.items() if k not in ('subprocess',)},
        'started_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    }
    path = write_record(record)
    serve_self(record)
    role = 'service %s on port %s' % (options.get('service.name'), options.get('service.port')) \
        if record['service'] else 'metrics-only (no service)'
    print('otela: node %s started (peer id %s), bootstrap %s, %s, %d label(s); record %s' % (
        host, record['id'], options.get('bootstrap.addr'), role, len(labels), path), file=sys.stderr)
    print('otela: running subprocess: %s' % json.dumps(argv_to_run), file=sys.stderr)
    sys.stderr.flush()
    try:
        child = subprocess.Popen(argv_to_run)
    except OSError as error:
        print('otela: failed to start subprocess %s: %s' % (json.dumps(argv_to_run), error), file=sys.stderr)
        die(127)

    def forward(signum, _frame):
        try:
            child.send_signal(signum)
        except OSError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code = child.wait()
    if code < 0:
        code = 128 - code
    print('otela: subprocess exited with code %d' % code, file=sys.stderr)
    die(code)

