"""The OpenAI-compatible HTTP surface shared by the sglang and vLLM stand-ins.

/health (503 until ready), /v1/models, /v1/chat/completions (JSON or SSE stream), /v1/completions,
Prometheus /metrics with the engine's real metric names, plus sglang's /generate and model info.

Serving follows a simple engine model, so a load test can check what it measures: at most
`max_running` sequences run at once (sglang --max-running-requests, vLLM --max-num-seqs, else
SML_STANDIN_MAX_RUNNING; extra requests wait in a FIFO queue), each admitted sequence produces its
first token SML_STANDIN_TTFT_S after admission and then one token every 1/SML_STANDIN_TOKENS_PER_S
seconds. With ignore_eos the answer is exactly max_tokens tokens (one word = one token). The KV
cache holds the prompt and generated tokens of running sequences (SML_STANDIN_KV_TOKENS in all).
SML_STANDIN_REPLY_DELAY_S adds a fixed delay before the first token (older switch, kept).
"""

import collections
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .common import env_float, hostname

LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]
KV_CAPACITY_TOKENS = 200000
THROUGHPUT_WINDOW_S = 5.0
FILLER = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor'.split()


class Histogram:
    def __init__(self):
        self.counts = [0] * len(LATENCY_BUCKETS)
        self.total = 0
        self.sum = 0.0

    def observe(self, value):
        self.total += 1
        self.sum += value
        for i, bound in enumerate(LATENCY_BUCKETS):
            if value <= bound:
                self.counts[i] += 1


class EngineState:
    """What an engine knows about itself; all counters move under one lock."""

    def __init__(self, framework, served_names, model_path, version):
        self.framework = framework  # 'sglang' | 'vllm'
        self.served_names = served_names
        self.model_path = model_path
        self.version = version
        self.ready = False
        self.unhealthy = False
        self.lock = threading.Condition()
        self.running = 0
        self.waiting = 0
        # 0 = no limit; the engine scripts set it from --max-running-requests / --max-num-seqs.
        self.max_running = int(env_float('SML_STANDIN_MAX_RUNNING', 0))
        self.kv_capacity = max(1, int(env_float('SML_STANDIN_KV_TOKENS', KV_CAPACITY_TOKENS)))
        self.kv_tokens = 0
        self._next_ticket = 0
        self._admitting = 0
        self._recent_tokens = collections.deque()  # (second, tokens) for gen_throughput
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.requests = 0
        self.ttft = Histogram()
        self.e2e = Histogram()
        self.itl = Histogram()
        self.created = int(time.time())
        self.host = hostname()
        self.max_model_len = 32768

    @property
    def served_name(self):
        return self.served_names[0]

    def admit(self, prompt_tokens):
        """Block until a sequence slot is free (FIFO), then hold it and the prompt's KV cache."""
        with self.lock:
            ticket = self._next_ticket
            self._next_ticket += 1
            self.waiting += 1
            while ticket != self._admitting or (0 < self.max_running <= self.running):
                self.lock.wait()
            self._admitting += 1
            self.waiting -= 1
            self.running += 1
            self.kv_tokens += prompt_tokens
            self.lock.notify_all()

    def release(self, kv_tokens):
        with self.lock:
            self.running -= 1
            self.kv_tokens -= kv_tokens
            self.lock.notify_all()

    def count_generated(self, tokens=1):
        """Tokens produced now: KV cache, counters and the recent-throughput window."""
        second = int(time.time())
        with self.lock:
            self.kv_tokens += tokens
            self.generation_tokens += tokens
            if self._recent_tokens and self._recent_tokens[-1][0] == second:
                self._recent_tokens[-1][1] += tokens
            else:
                self._recent_tokens.append([second, tokens])

    def generation_throughput(self):
        """Tokens per second over the last few seconds (call with the lock held)."""
        since = time.time() - THROUGHPUT_WINDOW_S
        while self._recent_tokens and self._recent_tokens[0][0] < since - 1:
            self._recent_tokens.popleft()
        return sum(count for second, count in self._recent_tokens if second >= since) / THROUGHPUT_WINDOW_S


def _message_text(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return ' '.join(str(part.get('text', '')) for part in content if isinstance(part, dict))
    return ''


def count_tokens(text):
    return max(1, len(text.split()))


def answer_words(state, prompt, max_tokens, ignore_eos=False):
    """The deterministic answer: names the served model, the node and the engine. With ignore_eos
    (and max_tokens) it goes on with filler words until max_tokens, as a real engine would."""
    said = ' '.join(prompt.split()[:24])
    text = 'Hello from %s on %s (%s stand-in). You said: %s' % (
        state.served_name, state.host, state.framework, said)
    words = text.split(' ')
    if ignore_eos and max_tokens is not None and max_tokens > len(words):
        words = words + [FILLER[i % len(FILLER)] for i in range(max_tokens - len(words))]
    if max_tokens is not None and max_tokens > 0:
        words = words[:max_tokens]
    finish = 'length' if max_tokens is not None and 0 < max_tokens <= len(words) and (
        ignore_eos or max_tokens < len(text.split(' '))) else 'stop'
    return words, finish


def _escape_label(value):
    return str(value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def render_metrics(state):
    prefix = state.framework + ':'
    labels = 'model_name="%s"' % _escape_label(state.served_name)
    if state.framework == 'vllm':
        labels += ',engine="0"'
    lines = []

    def metric(name, kind, help_text, value, extra=''):
        full = prefix + name
        lines.append('# HELP %s %s' % (full, help_text))
        lines.append('# TYPE %s %s' % (full, kind))
        lab = labels + (',' + extra if extra else '')
        lines.append('%s{%s} %s' % (full, lab, float(value)))

    def histogram(name, help_text, hist):
        full = prefix + name
        lines.append('# HELP %s %s' % (full, help_text))
        lines.append('# TYPE %s histogram' % full)
        for bound, count in zip(LATENCY_BUCKETS, hist.counts):
            lines.append('%s_bucket{%s,le="%s"} %s' % (full, labels, bound, float(count)))
        lines.append('%s_bucket{%s,le="+Inf"} %s' % (full, labels, float(hist.total)))
        lines.append('%s_count{%s} %s' % (full, labels, float(hist.total)))
        lines.append('%s_sum{%s} %s' % (full, labels, hist.sum))

    with state.lock:
        used_tokens = state.kv_tokens
        usage = min(1.0, used_tokens / float(state.kv_capacity))
        throughput = state.generation_throughput()
        if state.framework == 'sglang':
            metric('num_running_reqs', 'gauge', 'The number of running requests.', state.running)
            metric('num_used_tokens', 'gauge', 'The number of used tokens.', used_tokens)
            metric('token_usage', 'gauge', 'The token usage.', usage)
            metric('gen_throughput', 'gauge', 'The generation throughput (token/s).', throughput)
            metric('num_queue_reqs', 'gauge', 'The number of requests in the waiting queue.', state.waiting)
            metric('cache_hit_rate', 'gauge', 'The prefix cache hit rate.', 0.0)
            metric('prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', state.prompt_tokens)
            metric('generation_tokens_total', 'counter', 'Number of generation tokens processed.',
                   state.generation_tokens)
            metric('num_requests_total', 'counter', 'Number of requests processed.', state.requests)
            histogram('time_to_first_token_seconds', 'Histogram of time to first token in seconds.', state.ttft)
            histogram('e2e_request_latency_seconds', 'Histogram of End-to-end request latency in seconds',
                      state.e2e)
            histogram('inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', state.itl)
        else:
            metric('num_requests_running', 'gauge', 'Number of requests in model execution batches.',
                   state.running)
            metric('num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', state.waiting)
            metric('gpu_cache_usage_perc', 'gauge', 'GPU KV-cache usage. 1 means 100 percent usage.', usage)
            metric('kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', usage)
            metric('num_preemptions_total', 'counter', 'Cumulative number of preemption from the engine.', 0)
            metric('prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', state.prompt_tokens)
            metric('generation_tokens_total', 'counter', 'Number of generation tokens processed.',
                   state.generation_tokens)
            metric('request_success_total', 'counter', 'Count of successfully processed requests.',
                   state.requests, 'finished_reason="stop"')
            histogram('time_to_first_token_seconds', 'Histogram of time to first token in seconds.', state.ttft)
            histogram('e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', state.e2e)
            histogram('inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', state.itl)
            histogram('time_per_output_token_seconds', 'Histogram of time per output token in seconds.',
                      state.itl)
    return '\n'.join(lines) + '\n'


class EngineHandler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'uvicorn'
    sys_version = ''
    state = None  # EngineState, set on the subclass
    metrics_enabled = True
    log_request_lines = True

    # ---- plumbing
    def log_message(self, fmt, *args):  # uvicorn-style access lines on stderr
        if self.log_request_lines:
            print('INFO:     %s:%s - "%s %s HTTP/1.1" %s' % (
                self.client_address[0], self.client_address[1], self.command, self.path.split('?')[0],
                args[1] if len(args) > 1 else ''), file=sys.stderr)

    def log_request(self, code='-', size='-'):
        self.log_message('%s', self.requestline, str(getattr(code, 'value', code)), str(size))

    def send_body(self, status, body, content_type='application/json'):
        data = body if isinstance(body, bytes) else body.encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)

    def send_json(self, status, obj):
        self.send_body(status, json.dumps(obj))

    def read_json(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length > 0 else b''
        if not raw:
            return {}
        return json.loads(raw.decode('utf-8'))

    def error_json(self, status, message, kind='BadRequestError'):
        self.send_json(status, {'object': 'error', 'message': message, 'type': kind, 'param': None, 'code': status})

    def not_ready(self):
        self.send_body(503, b'', 'text/plain')

    # ---- routes
    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split('?')[0]
        state = self.state
        if path in ('/health', '/ping'):
            if state.ready and not state.unhealthy:
                self.send_body(200, b'', 'text/plain')
            else:
                self.not_ready()
        elif path == '/metrics':
            if not self.metrics_enabled:
                self.send_json(404, {'detail': 'Not Found'})
            else:
                self.send_body(200, render_metrics(state), 'text/plain; version=0.0.4; charset=utf-8')
        elif path == '/version':
            self.send_json(200, {'version': state.version})
        elif not state.ready:
            self.not_ready()
        elif path == '/v1/models':
            self.send_json(200, {'object': 'list', 'data': [
                {'id': name, 'object': 'model', 'created': state.created, 'owned_by': state.framework,
                 'root': state.model_path, 'parent': None, 'max_model_len': state.max_model_len}
                for name in state.served_names]})
        elif path == '/get_model_info' and state.framework == 'sglang':
            self.send_json(200, {'model_path': state.model_path, 'tokenizer_path': state.model_path,
                                 'is_generation': True, 'preferred_sampling_params': None})
        elif path == '/get_server_info' and state.framework == 'sglang':
            self.send_json(200, {'model_path': state.model_path, 'served_model_name': state.served_name,
                                 'version': state.version, 'host': state.host})
        elif path == '/health_generate' and state.framework == 'sglang':
            self.send_body(200 if not state.unhealthy else 503, b'', 'text/plain')
        else:
            self.send_json(404, {'detail': 'Not Found'})

    def do_POST(self):
        path = self.path.split('?')[0]
        state = self.state
        try:
            body = self.read_json()
        except (ValueError, UnicodeDecodeError):
            self.error_json(400, 'Invalid JSON body')
            return
        if not state.ready:
            self.not_ready()
            return
        if not isinstance(body, dict):
            self.error_json(400, 'The request body must be a JSON object')
            return
        if path == '/v1/chat/completions':
            messages = body.get('messages')
            if not isinstance(messages, list) or not messages:
                self.error_json(400, "'messages' must be a non-empty list")
                return
            prompt = ''
            for message in messages:
                if isinstance(message, dict) and message.get('role') == 'user':
                    prompt = _message_text(message.get('content'))
            self.complete(body, prompt, chat=True)
        elif path == '/v1/completions':
            prompt = body.get('prompt', '')
            if isinstance(prompt, list):
                prompt = ' '.join(str(p) for p in prompt)
            self.complete(body, str(prompt), chat=False)
        elif path == '/generate' and state.framework == 'sglang':
            self.generate(body)
        else:
            self.send_json(404, {'detail': 'Not Found'})

    # ---- generation
    def check_model(self, body):
        requested = body.get('model')
        state = self.state
        if state.framework == 'vllm' and requested and requested not in state.served_names:
            self.error_json(404, 'The model `%s` does not exist.' % requested, 'NotFoundError')
            return False
        return True

    def run_request(self, prompt, max_tokens, ignore_eos=False, on_token=None):
        """One sequence through the engine model: queue for a slot, wait the time to first token,
        then produce a token every 1/rate s, calling ON_TOKEN(word, index) as each one is made (a
        raising ON_TOKEN, e.g. a client that hung up, aborts the sequence). Returns
        (words, finish, prompt_tokens, completion_tokens)."""
        state = self.state
        arrived = time.time()
        words, finish = answer_words(state, prompt, max_tokens, ignore_eos)
        prompt_tokens = count_tokens(prompt)
        state.admit(prompt_tokens)
        generated = 0
        first = previous = None
        try:
            start = time.time() + env_float('SML_STANDIN_REPLY_DELAY_S', 0) + env_float('SML_STANDIN_TTFT_S', 0)
            rate = env_float('SML_STANDIN_TOKENS_PER_S', 0)
            for index, word in enumerate(words):
                pause = start + (index / rate if rate > 0 else 0) - time.time()
                if pause > 0:
                    time.sleep(pause)
                now = time.time()
                state.count_generated(1)
                generated += 1
                if first is None:
                    first = now
                else:
                    with state.lock:
                        state.itl.observe(now - previous)
                previous = now
                if on_token is not None:
                    on_token(word, index)
            if not words and start > time.time():
                time.sleep(start - time.time())
        finally:
            state.release(prompt_tokens + generated)
        ended = time.time()
        with state.lock:
            state.requests += 1
            state.prompt_tokens += prompt_tokens
            state.ttft.observe((first or ended) - arrived)
            state.e2e.observe(ended - arrived)
        return words, finish, prompt_tokens, len(words)

    def complete(self, body, prompt, chat):
        if not self.check_model(body):
            return
        state = self.state
        max_tokens = body.get('max_completion_tokens', body.get('max_tokens'))
        if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool)):
            self.error_json(400, 'max_tokens must be an integer')
            return
        ignore_eos = body.get('ignore_eos') is True
        request_id = ('chatcmpl-' if chat else 'cmpl-') + uuid.uuid4().hex
        created = int(time.time())
        model = body.get('model') or state.served_name
        if body.get('stream'):
            self.stream(request_id, created, model, body, prompt, max_tokens, ignore_eos, chat)
            return
        words, finish, prompt_tokens, completion_tokens = self.run_request(prompt, max_tokens, ignore_eos)
        usage = {'prompt_tokens': prompt_tokens, 'completion_tokens': completion_tokens,
                 'total_tokens': prompt_tokens + completion_tokens}
        text = ' '.join(words)
        if chat:
            choice = {'index': 0, 'message': {'role': 'assistant', 'content': text, 'reasoning_content': None,
                                               'tool_calls': None},
                      'logprobs': None, 'finish_reason': finish, 'matched_stop': None}
            obj = 'chat.completion'
        else:
            choice = {'index': 0, 'text': text, 'logprobs': None, 'finish_reason': finish}
            obj = 'text_completion'
        self.send_json(200, {'id': request_id, 'object': obj, 'created': created, 'model': model,
                             'choices': [choice], 'usage': usage})

    def stream(self, request_id, created, model, body, prompt, max_tokens, ignore_eos, chat):
        """SSE chunks as the tokens are produced: the role first (chat), one chunk per token, the
        finish reason, the usage when stream_options.include_usage, then [DONE]."""
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream; charset=utf-8')
        self.send_header('Cache-Control', 'no-cache')
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
        self.wfile.flush()
        obj = 'chat.completion.chunk' if chat else 'text_completion'

        def event(payload):
            data = ('data: %s\n\n' % payload).encode('utf-8')
            self.wfile.write(b'%x\r\n%s\r\n' % (len(data), data))
            self.wfile.flush()

        def chunk(delta_text, finish_reason, role=False):
            if chat:
                delta = {'content': delta_text}
                if role:
                    delta['role'] = 'assistant'
                choice = {'index': 0, 'delta': delta, 'logprobs': None, 'finish_reason': finish_reason}
            else:
                choice = {'index': 0, 'text': delta_text, 'logprobs': None, 'finish_reason': finish_reason}
            return json.dumps({'id': request_id, 'object': obj, 'created': created, 'model': model,
                               'choices': [choice]})

        def on_token(word, index):
            if index == 0 and chat:
                event(chunk('', None, role=True))
            event(chunk(word if index == 0 else ' ' + word, None))

        try:
            words, finish, prompt_tokens, completion_tokens = self.run_request(
                prompt, max_tokens, ignore_eos, on_token)
            if not words and chat:
                event(chunk('', None, role=True))
            event(chunk('', finish))
            options = body.get('stream_options') or {}
            if isinstance(options, dict) and options.get('include_usage'):
                usage = {'prompt_tokens': prompt_tokens, 'completion_tokens': completion_tokens,
                         'total_tokens': prompt_tokens + completion_tokens}
                event(json.dumps({'id': request_id, 'object': obj, 'created': created, 'model': model,
                                  'choices': [], 'usage': usage}))
            event('[DONE]')
            self.wfile.write(b'0\r\n\r\n')
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def generate(self, body):
        text = body.get('text', '')
        if isinstance(text, list):
            text = ' '.join(str(t) for t in text)
        params = body.get('sampling_params') or {}
        max_tokens = params.get('max_new_tokens') if isinstance(params, dict) else None
        ignore_eos = isinstance(params, dict) and params.get('ignore_eos') is True
        words, finish, prompt_tokens, completion_tokens = self.run_request(str(text), max_tokens, ignore_eos)
        self.send_json(200, {'text': ' '.join(words), 'meta_info': {
            'id': uuid.uuid4().hex, 'finish_reason': {'type': finish},
            'prompt_tokens': prompt_tokens, 'completion_tokens': completion_tokens, 'cached_tokens': 0}})


class EngineServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve_on(sock, state, metrics_enabled=True):
    """Serve the engine's HTTP surface on an already-bound listening socket, in a thread."""
    handler = type('BoundEngineHandler', (EngineHandler,), {
        'state': state, 'metrics_enabled': metrics_enabled, 'log_request_lines': not quiet_access_log()})
    server = adopt_socket(EngineServer, sock, handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True)
    thread.start()
    return server


def adopt_socket(server_class, sock, handler):
    """A socketserver instance serving on SOCK (bound early so a taken port fails fast)."""
    server = server_class(sock.getsockname()[:2], handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.address_family = sock.family
    server.server_name, server.server_port = sock.getsockname()[:2]
    return server


def quiet_access_log():
    return os.environ.get('SML_STANDIN_ACCESS_LOG', '1') in ('0', 'false', 'no')
