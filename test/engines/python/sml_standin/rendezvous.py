"""Multi-node rendezvous of the sglang stand-in (what torch.distributed's TCPStore does for real).

The head (node rank 0) listens on the --dist-init-addr port; each follower connects, says which rank
it is, and stays connected. The head is ready only when all nnodes-1 followers joined; followers
block until the head says goodbye (and exit with its status) or the connection drops.
Line-delimited JSON: join {rank, host} -> welcome; leave (follower shutting down); bye {code}.
"""

import json
import socket
import threading
import time

from .common import bind_listener, die, env_float, is_addr_in_use


class Head:
    def __init__(self, log, port, nnodes):
        self.log = log
        self.nnodes = nnodes
        self.joined = {}
        self.lock = threading.Lock()
        self.closing = False
        try:
            self.sock = bind_listener('0.0.0.0', port)
        except OSError as error:
            if is_addr_in_use(error):
                log.error(
                    'torch.distributed.DistNetworkError: The server socket has failed to listen on any local '
                    'network address. port: %d, useIpv6: false, code: -98, name: EADDRINUSE, message: '
                    'address already in use' % port)
                die(1)
            raise
        log.info('Rendezvous: waiting for %d follower node(s) on port %d' % (nnodes - 1, port))
        threading.Thread(target=self._accept, daemon=True).start()

    def all_joined(self):
        with self.lock:
            return len(self.joined) >= self.nnodes - 1

    def _accept(self):
        while True:
            try:
                conn, addr = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn, addr), daemon=True).start()

    def _serve(self, conn, addr):
        stream = conn.makefile('rwb')
        rank = None
        left = False
        try:
            hello = json.loads(stream.readline().decode('utf-8') or '{}')
            rank = int(hello.get('rank', -1))
            if rank < 1 or rank >= self.nnodes:
                stream.write(b'{"type": "reject"}\n')
                stream.flush()
                self.log.error('Rendezvous: rejected node rank %s from %s (nnodes=%d)' % (rank, addr[0], self.nnodes))
                return
            with self.lock:
                self.joined[rank] = (conn, stream, hello.get('host', addr[0]))
                count = len(self.joined)
            stream.write(b'{"type": "welcome"}\n')
            stream.flush()
            self.log.info('Rendezvous: node rank %d (%s, %s) joined [%d/%d]' % (
                rank, hello.get('host'), addr[0], count, self.nnodes - 1))
            while True:
                line = stream.readline()
                if not line:
                    break
                if json.loads(line.decode('utf-8')).get('type') == 'leave':
                    left = True
        except (OSError, ValueError):
            pass
        finally:
            if rank is not None and not self.closing:
                with self.lock:
                    self.joined.pop(rank, None)
                if left:
                    self.log.info('Rendezvous: node rank %d is shutting down' % rank)
                else:
                    self.log.error('Node rank %d left the distributed group unexpectedly; exiting.' % rank)
                    die(1)

    def bye(self, code):
        """Tell every follower the head is going away with CODE."""
        self.closing = True
        with self.lock:
            members = list(self.joined.values())
        for conn, stream, _host in members:
            try:
                stream.write(('{"type": "bye", "code": %d}\n' % code).encode('utf-8'))
                stream.flush()
                conn.close()
            except OSError:
                pass
        try:
            self.sock.close()
        except OSError:
            pass


class Follower:
    def __init__(self, log, host, port, rank, my_host):
        self.log = log
        self.host = host
        self.port = port
        self.rank = rank
        self.my_host = my_host
        self.stream = None
        self.conn = None

    def join(self):
        """Connect to the head (retrying until SML_STANDIN_RENDEZVOUS_TIMEOUT_S) and register."""
        timeout = env_float('SML_STANDIN_RENDEZVOUS_TIMEOUT_S', 900)
        started = time.time()
        last_note = 0.0
        while True:
            try:
                conn = socket.create_connection((self.host, self.port), timeout=5)
                conn.settimeout(None)
                stream = conn.makefile('rwb')
                stream.write((json.dumps({'type': 'join', 'rank': self.rank, 'host': self.my_host}) + '\n')
                             .encode('utf-8'))
                stream.flush()
                answer = json.loads(stream.readline().decode('utf-8') or '{}')
                if answer.get('type') == 'welcome':
                    self.conn, self.stream = conn, stream
                    self.log.info('Node rank %d joined the head at %s:%d' % (self.rank, self.host, self.port))
                    return
                self.log.error('The head at %s:%d rejected node rank %d' % (self.host, self.port, self.rank))
                die(1)
            except (OSError, ValueError):
                pass
            waited = time.time() - started
            if waited > timeout:
                self.log.error(
                    'torch.distributed.DistNetworkError: The client socket has timed out after %ds while trying '
                    'to connect to (%s, %d).' % (int(timeout), self.host, self.port))
                die(1)
            if waited - last_note >= 10:
                last_note = waited
                self.log.info('Node rank %d waiting for the head at %s:%d' % (self.rank, self.host, self.port))
            time.sleep(0.5)

    def wait_for_head(self):
        """Block until the head leaves; returns the exit code to use."""
        try:
            while True:
                line = self.stream.readline()
                if not line:
                    self.log.error('Lost the connection to the head at %s:%d' % (self.host, self.port))
                    return 1
                message = json.loads(line.decode('utf-8'))
                if message.get('type') == 'bye':
                    code = int(message.get('code', 0))
                    self.log.info('The head exited with code %d; node rank %d exits' % (code, self.rank))
                    return 0 if code == 0 else 1
        except (OSError, ValueError):
            return 1

    def leave(self):
        if self.stream is None:
            return
        try:
            self.stream.write(b'{"type": "leave"}\n')
            self.stream.flush()
            self.conn.close()
        except OSError:
            pass
