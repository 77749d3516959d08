"""Shared pieces of the stand-in engines: argument parsing, logging, failure modes, port checks.

Stdlib only; Python >= 3.9. The stand-ins answer to the real entry points with the real flags,
log lines, HTTP surface and metric names, so the production job scripts run unchanged on them.
"""

import errno
import json
import os
import signal
import socket
import sys
import threading
import time

# Make output visible in the job's log files as it happens (stdout is a file under srun).
for _stream in (sys.stdout, sys.stderr):
    try:
        _stream.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):
        pass


def env_float(name, default):
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return float(default)


def hostname():
    return socket.gethostname()


def host_address():
    """The node's own address (what `hostname -i` prints), falling back to loopback."""
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return '127.0.0.1'


# ------------------------------------------------------------------ arguments
class Args:
    """Tolerant command line parsing: known flags are typed, unknown flags are kept and ignored."""

    def __init__(self, values, positional, unknown):
        self.values = values
        self.positional = positional
        self.unknown = unknown

    def get(self, name, default=None):
        return self.values.get(name, default)

    def has(self, name):
        return name in self.values


def parse_args(argv, spec, aliases=None, unknown_booleans=()):
    """Parse ARGV with SPEC {'--flag': 'value'|'bool'|'multi'}.

    Unknown `--flag value` pairs are consumed and ignored like a real engine's pass-through;
    an unknown flag followed by another flag (or named in UNKNOWN_BOOLEANS) is a boolean.
    Raises ValueError with argparse's wording when a known flag misses its value.
    """
    aliases = aliases or {}
    values, positional, unknown = {}, [], []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == '--':
            positional.extend(argv[i + 1 :])
            break
        if _is_flag(token):
            name, has_eq, inline = token.partition('=')
            name = aliases.get(name, name)
            kind = spec.get(name)
            if kind == 'bool':
                values[name] = inline.lower() not in ('false', '0', 'no') if has_eq else True
            elif kind == 'value':
                if has_eq:
                    values[name] = inline
                elif i + 1 < len(argv):
                    values[name] = argv[i + 1]
                    i += 1
                else:
                    raise ValueError('argument %s: expected one argument' % name)
            elif kind == 'multi':
                items = [inline] if has_eq else []
                while i + 1 < len(argv) and not _is_flag(argv[i + 1]):
                    items.append(argv[i + 1])
                    i += 1
                if not items:
                    raise ValueError('argument %s: expected at least one argument' % name)
                values[name] = values.get(name, []) + items
            else:
                if has_eq:
                    unknown.append((name, inline))
                elif name in unknown_booleans or i + 1 >= len(argv) or _is_flag(argv[i + 1]):
                    unknown.append((name, True))
                else:
                    unknown.append((name, argv[i + 1]))
                    i += 1
        else:
            positional.append(token)
        i += 1
    return Args(values, positional, unknown)


def _is_flag(token):
    """`--name`, `--name=value` or a short `-tp` style flag (not a negative number, not `-`)."""
    if not token.startswith('-') or token in ('-', '--'):
        return False
    try:
        float(token)
        return False
    except ValueError:
        return True


def parse_int(args, name, default):
    value = args.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError("argument %s: invalid int value: '%s'" % (name, value))


# ------------------------------------------------------------------ logging
class Log:
    """Log lines in the real engine's format. sglang logs to stderr; vLLM's own logger to stdout."""

    def __init__(self, style):
        self.style = style

    def _stamp(self):
        if self.style == 'vllm':
            return time.strftime('%m-%d %H:%M:%S')
        return time.strftime('%Y-%m-%d %H:%M:%S')

    def info(self, message, where='api_server.py:1'):
        if self.style == 'vllm':
            print('INFO %s [%s] %s' % (self._stamp(), where, message), file=sys.stdout)
        elif self.style == 'router':
            print('%sZ  INFO sglang_router_rs: %s' % (time.strftime('%Y-%m-%dT%H:%M:%S'), message), file=sys.stderr)
        else:
            print('[%s] %s' % (self._stamp(), message), file=sys.stderr)

    def warning(self, message, where='api_server.py:1'):
        if self.style == 'vllm':
            print('WARNING %s [%s] %s' % (self._stamp(), where, message), file=sys.stdout)
        elif self.style == 'router':
            print('%sZ  WARN sglang_router_rs: %s' % (time.strftime('%Y-%m-%dT%H:%M:%S'), message), file=sys.stderr)
        else:
            print('[%s] WARNING: %s' % (self._stamp(), message), file=sys.stderr)

    def error(self, message, where='api_server.py:1'):
        if self.style == 'vllm':
            print('ERROR %s [%s] %s' % (self._stamp(), where, message), file=sys.stderr)
        elif self.style == 'router':
            print('%sZ ERROR sglang_router_rs: %s' % (time.strftime('%Y-%m-%dT%H:%M:%S'), message), file=sys.stderr)
        else:
            print('[%s] ERROR: %s' % (self._stamp(), message), file=sys.stderr)

    def uvicorn(self, message):
        """Uvicorn's own lines (stderr for both engines; sglang prefixes its timestamp)."""
        if self.style == 'vllm':
            print('INFO:     %s' % message, file=sys.stderr)
        else:
            print('[%s] INFO:     %s' % (self._stamp(), message), file=sys.stderr)


def die(code=1):
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


# ------------------------------------------------------------------ failure modes
def failure_mode():
    """SML_STANDIN_FAIL (oom|hang|nccl|exit_after_ready|unhealthy), limited to the hosts in
    SML_STANDIN_FAIL_HOSTS (comma-separated) when that is set."""
    mode = os.environ.get('SML_STANDIN_FAIL', '').strip().lower()
    hosts = [h.strip() for h in os.environ.get('SML_STANDIN_FAIL_HOSTS', '').split(',') if h.strip()]
    if hosts and hostname() not in hosts:
        return ''
    return mode


OOM_TRACEBACK = """Traceback (most recent call last):
  File "/usr/local/lib/python3.12/dist-packages/{pkg}/model_executor/model_loader.py", line 412, in load_model
    model = _initialize_model(model_config, load_config)
  File "/usr/local/lib/python3.12/dist-packages/{pkg}/model_executor/model_loader.py", line 188, in _initialize_model
    return model_class(config=model_config.hf_config, quant_config=quant_config)
  File "/usr/local/lib/python3.12/dist-packages/torch/nn/modules/module.py", line 1355, in to
    return self._apply(convert)
  File "/usr/local/lib/python3.12/dist-packages/torch/nn/modules/module.py", line 942, in _apply
    param_applied = fn(param)
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.50 GiB. GPU 0 has a total capacity of 94.50 GiB of which 1.21 GiB is free. Including non-PyTorch memory, this process has 93.27 GiB memory in use. Of the allocated memory 91.86 GiB is allocated by PyTorch, and 412.35 MiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)
"""

NCCL_TRACEBACK = """Traceback (most recent call last):
  File "/usr/local/lib/python3.12/dist-packages/{pkg}/distributed/parallel_state.py", line 1180, in init_distributed_environment
    torch.distributed.barrier(group=_WORLD.cpu_group)
  File "/usr/local/lib/python3.12/dist-packages/torch/distributed/c10d_logger.py", line 81, in wrapper
    return func(*args, **kwargs)
torch.distributed.DistBackendError: NCCL error in: /pytorch/torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:3356, unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL version 2.27.3
ncclSystemError: System call (e.g. socket, malloc) or external library call failed or device error.
Last error:
socketStartConnect: Connect to {peer}<43817> failed : Software caused connection abort
"""


def fail_oom(pkg):
    sys.stderr.write(OOM_TRACEBACK.format(pkg=pkg))
    die(1)


def fail_nccl(pkg, peer):
    sys.stderr.write(NCCL_TRACEBACK.format(pkg=pkg, peer=peer))
    die(1)


# ------------------------------------------------------------------ model path
def model_dir_ok(path):
    return bool(path) and os.path.isdir(path) and os.path.isfile(os.path.join(path, 'config.json'))


def read_model_config(path):
    try:
        with open(os.path.join(path, 'config.json'), encoding='utf-8') as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def fail_missing_model_transformers(path):
    """What transformers prints (under sglang) when the model path is neither a folder nor a repo id."""
    sys.stderr.write(
        'Traceback (most recent call last):\n'
        '  File "/usr/local/lib/python3.12/dist-packages/transformers/utils/hub.py", line 479, in cached_files\n'
        '    hf_hub_download(\n'
        '  File "/usr/local/lib/python3.12/dist-packages/huggingface_hub/utils/_validators.py", line 106, in _inner_fn\n'
        '    validate_repo_id(arg_value)\n'
        '  File "/usr/local/lib/python3.12/dist-packages/huggingface_hub/utils/_validators.py", line 154, in validate_repo_id\n'
        '    raise HFValidationError(\n'
        "huggingface_hub.errors.HFValidationError: Repo id must be in the form 'repo_name' or "
        "'namespace/repo_name': '%s'. Use `repo_type` argument if needed.\n"
        '\n'
        'During handling of the above exception, another exception occurred:\n'
        '\n'
        'Traceback (most recent call last):\n'
        '  File "/usr/local/lib/python3.12/dist-packages/transformers/configuration_utils.py", line 721, in _get_config_dict\n'
        '    resolved_config_file = cached_file(\n'
        "OSError: Incorrect path_or_model_id: '%s'. Please provide either the path to a local folder "
        'or the repo_id of a model on the Hub.\n' % (path, path)
    )
    die(1)


def fail_missing_model_vllm(path):
    sys.stderr.write(
        'Traceback (most recent call last):\n'
        '  File "/usr/local/bin/vllm", line 10, in <module>\n'
        '    sys.exit(main())\n'
        '  File "/usr/local/lib/python3.12/dist-packages/vllm/transformers_utils/config.py", line 612, in get_config\n'
        '    raise ValueError(\n'
        "ValueError: Invalid repository ID or local directory specified: '%s'.\n"
        'Please verify the following requirements:\n'
        '1. Provide a valid Hugging Face repository ID.\n'
        '2. Specify a local directory that contains a recognized configuration file.\n'
        "   - For Hugging Face models: ensure the presence of a 'config.json'.\n"
        "   - For Mistral models: ensure the presence of a 'params.json'.\n" % path
    )
    die(1)


# ------------------------------------------------------------------ GPUs
def visible_gpus():
    """GPU ids this process may use: CUDA_VISIBLE_DEVICES, else SML_STANDIN_GPUS (default 4)."""
    cvd = os.environ.get('CUDA_VISIBLE_DEVICES')
    if cvd is not None and cvd.strip() != '':
        return [g for g in cvd.split(',') if g.strip() != '']
    return [str(i) for i in range(int(env_float('SML_STANDIN_GPUS', 4)))]


def print_gpu_slice(log):
    cvd = os.environ.get('CUDA_VISIBLE_DEVICES')
    log.info('CUDA_VISIBLE_DEVICES=%s (stand-in: %d GPU(s) visible on %s)' % (
        cvd if cvd is not None else '<unset>', len(visible_gpus()), hostname()))


# ------------------------------------------------------------------ sockets
def bind_listener(host, port):
    """A listening TCP socket on HOST:PORT; raises OSError(EADDRINUSE) when taken."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def is_addr_in_use(error):
    return isinstance(error, OSError) and error.errno == errno.EADDRINUSE


def on_terminate(callback):
    """Run CALLBACK (then exit) on SIGTERM/SIGINT, from whichever thread is blocked."""

    def handler(signum, _frame):
        threading.Thread(target=_terminate, args=(callback, signum), daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _terminate(callback, signum):
    try:
        callback(signum)
    finally:
        die(0)


def sleep_forever():
    while True:
        time.sleep(3600)
