"""Stand-in for `python3 -m sglang_router.launch_router --worker-urls URL… --host H --port P`.

Waits until every worker answers /health (like the real router's start-up), then proxies the
OpenAI routes round-robin (any --policy is served as round robin), skipping a worker that does not
answer. Serves /health, /readiness, /liveness and /workers itself.
"""

import http.client
import itertools
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .common import Log, bind_listener, die, env_float, is_addr_in_use, on_terminate, parse_args, parse_int
from .serving import adopt_socket

SPEC = {
    '--host': 'value',
    '--port': 'value',
    '--worker-urls': 'multi',
    '--policy': 'value',
    '--worker-startup-timeout-secs': 'value',
    '--prometheus-port': 'value',
    '--prometheus-host': 'value',
}
FORWARDED_HEADERS = ('Content-Type', 'Authorization', 'Accept')


class Workers:
    def __init__(self, urls):
        self.urls = urls
        self._cycle = itertools.cycle(range(len(urls)))
        self._lock = threading.Lock()

    def order(self):
        """All workers, starting with the next one in round-robin order."""
        with self._lock:
            start = next(self._cycle)
        return self.urls[start:] + self.urls[:start]


def request(url, method, path, body=None, headers=None, timeout=600):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    conn.request(method, path, body=body, headers=headers or {})
    return conn, conn.getresponse()


def worker_healthy(url):
    try:
        conn, response = request(url, 'GET', '/health', timeout=5)
        response.read()
        conn.close()
        return response.status == 200
    except (OSError, http.client.HTTPException):
        return False


def make_handler(workers, log):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *_args):
            pass

        def send_plain(self, status, text, content_type='text/plain'):
            data = text.encode('utf-8')
            self.send_response(status)
            self.send_header('Content-Type', content_type)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split('?')[0]
            if path in ('/health', '/liveness', '/readiness'):
                self.send_plain(200, 'OK')
            elif path in ('/workers', '/list_workers'):
                self.send_plain(200, json.dumps({'urls': workers.urls}), 'application/json')
            else:
                self.proxy(None)

        def do_POST(self):
            length = int(self.headers.get('Content-Length') or 0)
            self.proxy(self.rfile.read(length) if length > 0 else b'')

        def proxy(self, body):
            headers = {name: self.headers[name] for name in FORWARDED_HEADERS if self.headers.get(name)}
            for url in workers.order():
                try:
                    conn, response = request(url, self.command, self.path, body, headers)
                except (OSError, http.client.HTTPException) as error:
                    log.warning('worker %s failed: %s; trying the next worker' % (url, error))
                    continue
                try:
                    self.relay(response)
                finally:
                    conn.close()
                return
            self.send_plain(503, 'No available workers (all workers are unhealthy)')

        def relay(self, response):
            content_type = response.getheader('Content-Type', 'application/json')
            self.send_response(response.status)
            self.send_header('Content-Type', content_type)
            if response.getheader('Content-Length') is not None and 'event-stream' not in content_type:
                data = response.read()
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.send_header('Transfer-Encoding', 'chunked')
            self.end_headers()
            try:
                while True:
                    chunk = response.read1(65536) if hasattr(response, 'read1') else response.read(4096)
                    if not chunk:
                        break
                    self.wfile.write(b'%x\r\n%s\r\n' % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b'0\r\n\r\n')
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


def main(argv):
    log = Log('router')
    try:
        args = parse_args(argv, SPEC)
        port = parse_int(args, '--port', 30000)
        startup_timeout = parse_int(args, '--worker-startup-timeout-secs', 600)
    except ValueError as error:
        print('launch_router.py: error: %s' % error, file=sys.stderr)
        die(2)
    host = args.get('--host', '127.0.0.1')
    urls = [u.rstrip('/') for u in (args.get('--worker-urls') or []) if u.strip()]
    policy = args.get('--policy', 'cache_aware')
    if args.positional:
        print('launch_router.py: error: unrecognized arguments: %s' % ' '.join(args.positional), file=sys.stderr)
        die(2)
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            print("launch_router.py: error: invalid worker URL '%s'" % url, file=sys.stderr)
            die(2)
    try:
        sock = bind_listener(host, port)
    except OSError as error:
        if is_addr_in_use(error):
            log.error('Failed to bind %s:%d: Address already in use (os error 98)' % (host, port))
            die(1)
        raise
    on_terminate(lambda _signum: log.info('Received shutdown signal; stopping router'))

    log.info('Starting router on %s:%d | workers: %s | policy: %s (stand-in serves round robin)' % (
        host, port, urls, policy))
    log.info('Waiting for %d worker(s) to become healthy (timeout %ds)' % (len(urls), startup_timeout))
    started = time.time()
    pending = list(urls)
    while pending:
        pending = [u for u in pending if not worker_healthy(u)]
        if not pending:
            break
        if time.time() - started > startup_timeout:
            log.error('Timeout %ds waiting for workers %s to become healthy. Please set '
                      '--router-worker-startup-timeout-secs (sglang_router.launch_server) or '
                      '--worker-startup-timeout-secs (sglang_worker.router) to a larger value' % (
                          startup_timeout, pending))
            die(1)
        time.sleep(env_float('SML_STANDIN_ROUTER_POLL_S', 1))
    log.info('All %d workers are healthy' % len(urls))

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    server = adopt_socket(Server, sock, make_handler(Workers(urls), log))
    log.info('Router ready on http://%s:%d with %d worker(s)' % (host, port, len(urls)))
    server.serve_forever(poll_interval=0.2)
