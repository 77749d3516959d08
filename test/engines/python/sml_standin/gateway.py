"""Serving-gateway stand-in: `otela gateway [--listen HOST:PORT] [--records DIR]`, with the API key
in $SML_GATEWAY_KEY. It plays the public gateway in front of the OpenTela mesh: requests carry
`Authorization: Bearer <key>` (else 401); GET /v1/models lists the served names that answer;
POST /v1/chat/completions goes to a replica registered as the `llm` service under that served name
(found from the otela stand-in's records, newest first; 404 when none answers), like the real one.
Prints `gateway listening on http://HOST:PORT` once ready.
"""

import glob
import json
import os
import socket
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .common import bind_listener, die

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def services(records_dir, model=None):
    """(url, served name) of every registered llm service, newest first; only `model` when given."""
    found = []
    for path in glob.glob(os.path.join(records_dir, 'otela-*.json')):
        try:
            with open(path, encoding='utf-8') as handle:
                record = json.load(handle)
            mtime = os.path.getmtime(path)
        except (OSError, ValueError):
            continue
        service = record.get('service') or {}
        name = (record.get('labels') or {}).get('served_model_name')
        if service.get('name') != 'llm' or not service.get('port') or not name:
            continue
        if model is not None and name != model:
            continue
        try:
            address = socket.gethostbyname(record.get('host') or '')
        except OSError:
            continue
        found.append((mtime, 'http://%s:%s' % (address, service['port']), name))
    return [(url, name) for _, url, name in sorted(found, reverse=True)]


def forward(url, body, timeout):
    request = urllib.request.Request(url, data=body, method='POST', headers={'Content-Type': 'application/json'})
    try:
        with DIRECT.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def main(argv):
    listen, records_dir = '127.0.0.1:0', os.environ.get('SML_OTELA_RECORD_DIR', '/tmp')
    i = 0
    while i < len(argv):
        if argv[i] == '--listen' and i + 1 < len(argv):
            listen, i = argv[i + 1], i + 2
        elif argv[i] == '--records' and i + 1 < len(argv):
            records_dir, i = argv[i + 1], i + 2
        else:
            print('usage: otela gateway [--listen HOST:PORT] [--records DIR]', file=sys.stderr)
            die(2)
    key = os.environ.get('SML_GATEWAY_KEY', '')
    if not key:
        print('otela gateway: set SML_GATEWAY_KEY', file=sys.stderr)
        die(2)
    host, _, port = listen.rpartition(':')

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *_args):
            pass

        def reply(self, status, payload):
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode('utf-8')
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def authorized(self):
            if self.headers.get('Authorization', '') == 'Bearer %s' % key:
                return True
            self.reply(401, {'error': {'message': 'invalid API key', 'type': 'authentication_error'}})
            return False

        def do_GET(self):
            if not self.authorized():
                return
            if self.path.split('?')[0] != '/v1/models':
                return self.reply(404, {'error': {'message': 'not found'}})
            names = sorted({name for _, name in services(records_dir)})
            self.reply(200, {'object': 'list', 'data': [{'id': n, 'object': 'model'} for n in names]})

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
            if not self.authorized():
                return
            if self.path.split('?')[0] != '/v1/chat/completions':
                return self.reply(404, {'error': {'message': 'not found'}})
            try:
                model = json.loads(body or b'{}').get('model')
            except ValueError:
                return self.reply(400, {'error': {'message': 'body is not JSON'}})
            for url, _ in services(records_dir, model):
                try:
                    status, answer = forward(url + '/v1/chat/completions', body, 30)
                except OSError:
                    continue
                return self.reply(status, answer)
            self.reply(404, {'error': {'message': 'model %s is not served on the mesh' % model}})

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    sock = bind_listener(host or '127.0.0.1', int(port or 0))
    server = Server(sock.getsockname()[:2], Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.server_name, server.server_port = sock.getsockname()[:2]
    print('gateway listening on http://%s:%d' % sock.getsockname()[:2], flush=True)
    server.serve_forever(poll_interval=0.2)
