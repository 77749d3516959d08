"""Stand-in for the Ray CLI (`ray start --head|--address … [--block]`, `ray stop`, `ray status`) and
the cluster it forms: the head keeps a table of nodes and their GPUs; workers register and send a
heartbeat; `ray.available_resources()` (python/ray) and the vLLM stand-in read the GPU total.

The head answers small JSON over HTTP on its --port (6379 by default):
  POST /join {node_id, ip, host, gpus, cpus}  (also the heartbeat)   GET /resources   GET /nodes
Node state of a non-blocking `ray start` lives in /tmp/ray-standin/<hostname>/ (per node: /tmp is shared).
"""

import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .common import bind_listener, die, env_float, host_address, hostname, is_addr_in_use, parse_args, parse_int
from .serving import adopt_socket

DEFAULT_PORT = 6379
STALE_AFTER_S = 6.0


def state_dir():
    path = os.path.join('/tmp', 'ray-standin', hostname())
    os.makedirs(path, exist_ok=True)
    return path


# ------------------------------------------------------------------ client side
def normalise_address(address):
    if ':' not in address:
        return '%s:%d' % (address, DEFAULT_PORT)
    return address


def fetch(address, path, payload=None, timeout=3.0):
    url = 'http://%s%s' % (normalise_address(address), path)
    data = json.dumps(payload).encode('utf-8') if payload is not None else None
    request = urllib.request.Request(url, data=data, headers={'Content-Type': 'application/json'})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=timeout) as response:
        return json.loads(response.read().decode('utf-8'))


def find_cluster(address=None):
    """The head address to use: ADDRESS, else RAY_ADDRESS, else a head on this node. None if none answers."""
    candidates = []
    for value in (address, os.environ.get('RAY_ADDRESS')):
        if value and value not in ('auto', 'local'):
            candidates.append(value.replace('ray://', '').split('/')[0])
    candidates += ['127.0.0.1:%d' % DEFAULT_PORT, '%s:%d' % (host_address(), DEFAULT_PORT)]
    try:
        with open(os.path.join(state_dir(), 'address'), encoding='utf-8') as handle:
            candidates.append(handle.read().strip())
    except OSError:
        pass
    for candidate in candidates:
        try:
            fetch(candidate, '/resources', timeout=1.0)
            return normalise_address(candidate)
        except (OSError, ValueError):
            continue
    return None


def cluster_resources(address):
    return fetch(address, '/resources')


# ------------------------------------------------------------------ head
class Cluster:
    def __init__(self, head_node):
        self.lock = threading.Lock()
        self.head = head_node
        self.workers = {}

    def join(self, node):
        node['last_seen'] = time.time()
        with self.lock:
            is_new = node['node_id'] not in self.workers
            self.workers[node['node_id']] = node
        if is_new:
            print('ray stand-in head: node %s (%s) joined with %s GPU(s)' % (
                node.get('host'), node.get('ip'), node.get('gpus')), file=sys.stderr)

    def live_nodes(self):
        now = time.time()
        with self.lock:
            workers = [n for n in self.workers.values() if now - n['last_seen'] < STALE_AFTER_S]
        return [self.head] + workers

    def resources(self):
        totals = {}
        for node in self.live_nodes():
            totals['CPU'] = totals.get('CPU', 0.0) + float(node.get('cpus', 0))
            if float(node.get('gpus', 0)) > 0:
                totals['GPU'] = totals.get('GPU', 0.0) + float(node['gpus'])
            totals['node:%s' % node.get('ip')] = 1.0
            totals['memory'] = totals.get('memory', 0.0) + 64.0 * 2 ** 30
        return totals


def make_handler(cluster):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *_args):
            pass

        def reply(self, status, obj):
            data = json.dumps(obj).encode('utf-8')
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == '/resources':
                self.reply(200, cluster.resources())
            elif self.path == '/nodes':
                self.reply(200, cluster.live_nodes())
            else:
                self.reply(404, {'error': 'not found'})

        def do_POST(self):
            length = int(self.headers.get('Content-Length') or 0)
            try:
                node = json.loads(self.rfile.read(length).decode('utf-8'))
            except ValueError:
                self.reply(400, {'error': 'bad json'})
                return
            if self.path == '/join' and isinstance(node, dict) and node.get('node_id'):
                cluster.join(node)
                self.reply(200, {'ok': True})
            else:
                self.reply(404, {'error': 'not found'})

    return Handler


def this_node(gpus, cpus):
    return {'node_id': uuid.uuid4().hex, 'ip': host_address(), 'host': hostname(), 'gpus': gpus, 'cpus': cpus,
            'last_seen': time.time()}


def start_head(port, gpus, cpus, block):
    try:
        sock = bind_listener('0.0.0.0', port)
    except OSError as error:
        if is_addr_in_use(error):
            print('ValueError: Failed to bind to 0.0.0.0:%d because it is already occupied '
                  '([Errno 98] Address already in use). Use `ray start --head --port=<port>` to choose '
                  'another port.' % port, file=sys.stderr)
            die(1)
        raise
    ip = host_address()
    if not block:
        daemonize()
    cluster = Cluster(this_node(gpus, cpus))

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    server = adopt_socket(Server, sock, make_handler(cluster))
    threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True).start()
    with open(os.path.join(state_dir(), 'address'), 'w', encoding='utf-8') as handle:
        handle.write('%s:%d' % (ip, port))
    started_banner(ip, port, head=True, block=block)
    block_until_signal(None)


def start_worker(address, gpus, cpus, block):
    address = normalise_address(address)
    node = this_node(gpus, cpus)
    node.pop('last_seen')
    timeout = env_float('SML_STANDIN_RAY_CONNECT_TIMEOUT_S', 120)
    started = time.time()
    while True:
        try:
            fetch(address, '/join', node)
            break
        except (OSError, ValueError):
            if time.time() - started > timeout:
                print('ConnectionError: Unable to connect to GCS (ray head node) at %s. Check that (1) Ray with '
                      'matching version started successfully at the specified address, (2) this node can reach '
                      'the specified address, and (3) there is no firewall setting preventing access.' % address,
                      file=sys.stderr)
                die(1)
            time.sleep(0.5)
    if not block:
        daemonize()
    with open(os.path.join(state_dir(), 'address'), 'w', encoding='utf-8') as handle:
        handle.write(address)
    started_banner(host_address(), None, head=False, block=block)
    block_until_signal(lambda: heartbeat(address, node))


def heartbeat(address, node):
    """Keep the node registered; exits 1 when the head is gone for good (as a raylet would)."""
    last_ok = time.time()
    while True:
        time.sleep(1.0)
        try:
            fetch(address, '/join', node, timeout=2.0)
            last_ok = time.time()
        except (OSError, ValueError):
            if time.time() - last_ok > 15:
                print('Some Ray subprocesses exited unexpectedly:\n  raylet [exit code=1]\n'
                      'The head node at %s is unreachable.' % address, file=sys.stderr)
                die(1)


def started_banner(ip, port, head, block):
    out = sys.stdout
    print('Usage stats collection is disabled.', file=out)
    print('', file=out)
    print('Local node IP: %s' % ip, file=out)
    print('', file=out)
    print('--------------------', file=out)
    print('Ray runtime started.', file=out)
    print('--------------------', file=out)
    if head:
        print('', file=out)
        print('Next steps', file=out)
        print('  To add another node to this Ray cluster, run', file=out)
        print("    ray start --address='%s:%d'" % (ip, port), file=out)
        print('', file=out)
        print('  To connect to this Ray cluster:', file=out)
        print('    import ray', file=out)
        print("    ray.init(_node_ip_address='%s')" % ip, file=out)
    if block:
        print('', file=out)
        print('--block', file=out)
        print('  This command will now block forever until terminated by a signal.', file=out)
        print('  Running subprocesses are monitored and a message will be printed if any of them terminate '
              'unexpectedly. Subprocesses exit with SIGTERM will be treated as graceful, thus NOT reported.',
              file=out)
    out.flush()


def daemonize():
    """Detach like a non-blocking `ray start`: the parent returns 0, the child keeps the node alive."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    with open(os.path.join(state_dir(), 'pid'), 'w', encoding='utf-8') as handle:
        handle.write(str(os.getpid()))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)


def block_until_signal(work):
    stop = threading.Event()

    def handler(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    if work is not None:
        threading.Thread(target=work, daemon=True).start()
    while not stop.wait(0.5):
        pass
    die(0)


def stop_local():
    path = os.path.join(state_dir(), 'pid')
    try:
        with open(path, encoding='utf-8') as handle:
            pid = int(handle.read().strip())
        os.kill(pid, signal.SIGTERM)
        print('Stopped all 1 Ray processes.')
    except (OSError, ValueError):
        print('Did not find any active Ray processes.')
    for name in ('pid', 'address'):
        try:
            os.remove(os.path.join(state_dir(), name))
        except OSError:
            pass


SPEC = {'--head': 'bool', '--block': 'bool', '--port': 'value', '--address': 'value', '--num-gpus': 'value',
        '--num-cpus': 'value', '--node-ip-address': 'value'}


def cli(argv):
    if not argv or argv[0] in ('-h', '--help'):
        print('Usage: ray [OPTIONS] COMMAND [ARGS]...\n\nCommands:\n  start  Start Ray processes manually on '
              'the local machine.\n  status Print cluster status.\n  stop   Stop Ray processes manually on the '
              'local machine.')
        die(0 if argv else 2)
    command, rest = argv[0], argv[1:]
    if command == '--version':
        print('ray, version 0.0.0+sml.standin')
        die(0)
    if command == 'stop':
        stop_local()
        die(0)
    if command == 'status':
        address = find_cluster(None)
        if address is None:
            print('ConnectionError: Could not find any running Ray instance. Please specify the one to connect to '
                  'by setting `--address` flag or `RAY_ADDRESS` environment variable.', file=sys.stderr)
            die(1)
        resources = cluster_resources(address)
        nodes = fetch(address, '/nodes')
        print('======== Autoscaler status ========\nActive:\n%s\nResources\n  %s/%s GPU\n  %s/%s CPU' % (
            '\n'.join(' 1 node_%s' % n['node_id'] for n in nodes), 0.0, resources.get('GPU', 0.0), 0.0,
            resources.get('CPU', 0.0)))
        die(0)
    if command != 'start':
        print("Error: No such command '%s'." % command, file=sys.stderr)
        die(2)
    args = parse_args(rest, SPEC)
    gpus = parse_int(args, '--num-gpus', 0)
    cpus = parse_int(args, '--num-cpus', os.cpu_count() or 1)
    block = bool(args.get('--block'))
    if args.get('--head'):
        start_head(parse_int(args, '--port', DEFAULT_PORT), gpus, cpus, block)
    elif args.get('--address'):
        start_worker(args.get('--address'), gpus, cpus, block)
    else:
        print('Error: Either --head or --address must be given.', file=sys.stderr)
        die(2)
