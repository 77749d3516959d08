"""The OpenAI-compatible HTTP surface shared by the sglang and vLLM stand-ins.

/health (503 until ready), /v1/models, /v1/chat/completions (JSON or SSE stream), /v1/completions,
Prometheus /metrics with the engine's real metric names, plus sglang's /generate and model info.
Set SML_STANDIN_REPLY_DELAY_S to make each request take that long (metrics then show it running).
"""

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
        self.lock = threading.Lock()
        self.running = 0
        self.waiting = 0
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.requests = 0
        self.last_throughput = 0.0
        self.ttft = Histogram()
        self.e2e = Histogram()
        self.itl = Histogram()
        self.created = int(time.time())
        self.host = hostname()
        self.max_model_len = 32768

    @property
    def served_name(self):
        return self.served_names[0]


def _message_text(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return ' '.join(str(part.get('text', '')) for part in content if isinstance(part, dict))
    return ''


def count_tokens(text):
    return max(1, len(text.split()))


def answer_words(state, prompt, max_tokens):
    """The deterministic answer: names the served model, the node and the engine."""
    said = ' '.join(prompt.split()[:24])
    text = 'Hello from %s on %s (%s stand-in). You said: %s' % (
        state.served_name, state.host, state.framework, said)
    words = text.split(' ')
    if max_tokens is not None and max_tokens > 0:
        words = words[:max_tokens]
    finish = 'length' if max_tokens is not None and 0 < max_tokens < len(text.split(' ')) else 'stop'
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
        used_tokens = state.running * 512
        usage = min(1.0, used_tokens / float(KV_CAPACITY_TOKENS))
        if state.framework == 'sglang':
            metric('num_running_reqs', 'gauge', 'The number of running requests.', state.running)
            metric('num_used_tokens', 'gauge', 'The number of used tokens.', used_tokens)
            metric('token_usage', 'gauge', 'The token usage.', usage)
            metric('gen_throughput', 'gauge', 'The generation throughput (token/s).', state.last_throughput)
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

    def run_request(self, prompt, max_tokens):
        state = self.state
        start = time.time()
        with state.lock:
            state.running += 1
        try:
            delay = env_float('SML_STANDIN_REPLY_DELAY_S', 0)
            if delay > 0:
                time.sleep(delay)
            words, finish = answer_words(state, prompt, max_tokens)
        finally:
            with state.lock:
                state.running -= 1
        elapsed = max(time.time() - start, 1e-4)
        prompt_tokens, completion_tokens = count_tokens(prompt), len(words)
        with state.lock:
            state.requests += 1
            state.prompt_tokens += prompt_tokens
            state.generation_tokens += completion_tokens
            state.last_throughput = completion_tokens / elapsed
            state.ttft.observe(elapsed / 2)
            state.e2e.observe(elapsed)
            state.itl.observe(elapsed / max(1, completion_tokens))
        return words, finish, prompt_tokens, completion_tokens

    def complete(self, body, prompt, chat):
        if not self.check_model(body):
            return
        state = self.state
        max_tokens = body.get('max_completion_tokens', body.get('max_tokens'))
        if max_tokens is not None and not isinstance(max_tokens, int):
            self.error_json(400, 'max_tokens must be an integer')
            return
        words, finish, prompt_tokens, completion_tokens = self.run_request(prompt, max_tokens)
        request_id = ('chatcmpl-' if chat else 'cmpl-') + uuid.uuid4().hex
        created = int(time.time())
        model = body.get('model') or state.served_name
        usage = {'prompt_tokens': prompt_tokens, 'completion_tokens': completion_tokens,
                 'total_tokens': prompt_tokens + completion_tokens}
        text = ' '.join(words)
        if body.get('stream'):
            self.stream(request_id, created, model, words, finish, usage, chat, body)
            return
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

    def stream(self, request_id, created, model, words, finish, usage, chat, body):
        self.send_response(200)
        self.send_header('Content-Type', 'text/event-stream; charset=utf-8')
        self.send_header('Cache-Control', 'no-cache')
        self.send_header('Transfer-Encoding', 'chunked')
        self.end_headers()
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

        try:
            if chat:
                event(chunk('', None, role=True))
            for i, word in enumerate(words):
                event(chunk(word if i == 0 else ' ' + word, None))
            event(chunk('', finish))
            options = body.get('stream_options') or {}
            if isinstance(options, dict) and options.get('include_usage'):
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
        words, finish, prompt_tokens, completion_tokens = self.run_request(str(text), max_tokens)
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
