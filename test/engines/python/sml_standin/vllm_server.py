"""Stand-in for `vllm serve MODEL …` (and `python3 -m vllm.entrypoints.openai.api_server --model …`).

With `--distributed-executor-backend ray` it waits until the Ray cluster (RAY_ADDRESS or the head on
this node) has tensor×pipeline-parallel GPUs, like vLLM's placement group does.
"""

import os
import sys
import time

from . import VERSION
from .common import (
    Log,
    bind_listener,
    die,
    env_float,
    fail_missing_model_vllm,
    fail_nccl,
    fail_oom,
    failure_mode,
    host_address,
    is_addr_in_use,
    model_dir_ok,
    on_terminate,
    parse_args,
    parse_int,
    print_gpu_slice,
    read_model_config,
    sleep_forever,
    visible_gpus,
)
from .ray_standin import cluster_resources, find_cluster
from .serving import EngineState, serve_on

SPEC = {
    '--model': 'value',
    '--host': 'value',
    '--port': 'value',
    '--served-model-name': 'multi',
    '--tensor-parallel-size': 'value',
    '--pipeline-parallel-size': 'value',
    '--data-parallel-size': 'value',
    '--distributed-executor-backend': 'value',
    '--max-model-len': 'value',
    '--max-num-seqs': 'value',
    '--api-key': 'value',
    '--trust-remote-code': 'bool',
    '--enforce-eager': 'bool',
}
ALIASES = {
    '-tp': '--tensor-parallel-size',
    '-pp': '--pipeline-parallel-size',
    '-dp': '--data-parallel-size',
}
UNKNOWN_BOOLEANS = {
    '--trust-request-chat-template', '--enable-prefix-caching', '--no-enable-prefix-caching', '--disable-log-requests',
    '--disable-log-stats', '--enable-auto-tool-choice', '--enable-chunked-prefill', '--omni', '--enable-expert-parallel',
    '--async-scheduling', '--enable-reasoning', '--disable-custom-all-reduce', '--headless', '--enable-log-requests',
    '--disable-frontend-multiprocessing', '--enable-lora', '--skip-tokenizer-init', '--disable-fastapi-docs',
    '--enable-sleep-mode', '--enable-server-load-tracking', '--enable-force-include-usage', '--enable-eplb',
}
ROUTES = ['/health', '/ping', '/metrics', '/version', '/v1/models', '/v1/chat/completions', '/v1/completions']


def usage_error(prog, message):
    print('usage: %s [-h] [model_tag] [options]' % prog, file=sys.stderr)
    print('%s: error: %s' % (prog, message), file=sys.stderr)
    die(2)


def cli(argv):
    if argv and argv[0] in ('--version', '-v'):
        print(VERSION)
        die(0)
    if not argv or argv[0] != 'serve':
        print('usage: vllm [-h] [-v] {chat,complete,serve,bench,collect-env,run-batch} ...', file=sys.stderr)
        if argv:
            print("vllm: error: argument subparser: invalid choice: '%s' (choose from 'chat', 'complete', 'serve', "
                  "'bench', 'collect-env', 'run-batch')" % argv[0], file=sys.stderr)
        die(2)
    main(argv[1:], prog='vllm serve')


def wait_for_ray_gpus(log, needed):
    """Block until the Ray cluster offers NEEDED GPUs (vLLM's placement group would wait the same way)."""
    started = time.time()
    last_note = -1e9
    while True:
        address = find_cluster(None)
        have = 0.0
        if address is not None:
            try:
                have = float(cluster_resources(address).get('GPU', 0.0))
            except (OSError, ValueError):
                have = 0.0
        else:
            have = float(len(visible_gpus()))
        if have >= needed:
            log.info('Ray cluster at %s has %d GPU(s); creating the placement group of %d bundle(s)' % (
                address or 'local', int(have), needed), where='ray_utils.py:348')
            return
        if time.time() - last_note >= 10:
            last_note = time.time()
            log.warning(
                'Waiting for creating a placement group of specs for %d seconds. specs=%s. Check `ray status` and '
                '`ray list nodes` to see if you have enough resources, and make sure the IP addresses used by ray '
                'cluster are the same as VLLM_HOST_IP environment variable specified in each node if you are '
                'running on a multi-node.' % (int(time.time() - started), [{'GPU': 1.0}] * needed),
                where='ray_utils.py:254')
        time.sleep(0.5)


def main(argv, prog='vllm serve'):
    log = Log('vllm')
    try:
        args = parse_args(argv, SPEC, ALIASES, UNKNOWN_BOOLEANS)
        port = parse_int(args, '--port', 8000)
        tp = parse_int(args, '--tensor-parallel-size', 1)
        pp = parse_int(args, '--pipeline-parallel-size', 1)
        dp = parse_int(args, '--data-parallel-size', 1)
    except ValueError as error:
        usage_error(prog, str(error))
    if len(args.positional) > 1:
        usage_error(prog, 'unrecognized arguments: %s' % ' '.join(args.positional[1:]))
    model = args.positional[0] if args.positional else args.get('--model')
    if args.positional and args.get('--model') and args.get('--model') != args.positional[0]:
        usage_error(prog, 'model should only be given once (positional model_tag or --model)')
    if not args.positional and args.get('--model') and prog == 'vllm serve':
        log.warning('With `vllm serve`, you should provide the model as a positional argument or in a config file '
                    'instead of via the `--model` option. The `--model` option will be removed in a future version.',
                    where='utils.py:1923')
    if not model:
        model = 'Qwen/Qwen3-0.6B'
    host = args.get('--host') or '0.0.0.0'
    served = args.get('--served-model-name') or [model]
    # Like vLLM: without an explicit backend, a world larger than this node's GPUs goes to Ray.
    backend = args.get('--distributed-executor-backend') or ('ray' if tp * pp > len(visible_gpus()) else 'mp')

    log.info('vLLM API server version %s' % VERSION, where='api_server.py:1896')
    log.info('non-default args: %r' % {
        'model_tag': model, 'host': host, 'port': port, 'served_model_name': served, 'tensor_parallel_size': tp,
        'pipeline_parallel_size': pp, 'data_parallel_size': dp, 'distributed_executor_backend': backend},
        where='utils.py:326')
    print_gpu_slice(log)
    if args.unknown:
        log.info('stand-in: ignoring flags it does not model: %s' % ' '.join(name for name, _ in args.unknown))
    mode = failure_mode()

    try:
        sock = bind_listener(host, port)
    except OSError as error:
        if is_addr_in_use(error):
            sys.stderr.write(
                'Traceback (most recent call last):\n'
                '  File "/usr/local/bin/vllm", line 10, in <module>\n'
                '    sys.exit(main())\n'
                '  File "/usr/local/lib/python3.12/dist-packages/vllm/entrypoints/openai/api_server.py", line 1926, '
                'in create_server_socket\n'
                '    sock.bind(addr)\n'
                'OSError: [Errno 98] Address already in use\n')
            die(1)
        raise

    if not model_dir_ok(model):
        fail_missing_model_vllm(model)
    config = read_model_config(model)

    world = tp * pp
    if backend != 'ray' and world * dp > len(visible_gpus()):
        sys.stderr.write(
            'ValueError: World size (%d) is larger than the number of available GPUs (%d) in this node. If this is '
            "intentional and you are using:\n- ray, set '--distributed-executor-backend ray'.\n- multiprocessing, "
            "set '--nnodes' and '--node-rank' and start vllm on each node.\n" % (world * dp, len(visible_gpus())))
        die(1)

    state = EngineState('vllm', served, model, VERSION)
    state.max_model_len = parse_int(args, '--max-model-len', int(config.get('max_position_embeddings') or 32768))
    state.max_running = parse_int(args, '--max-num-seqs', state.max_running)
    log.info('Using max model len %d' % state.max_model_len, where='config.py:1604')
    serve_on(sock, state)

    def shutdown(_signum):
        log.uvicorn('Shutting down')
        log.uvicorn('Finished server process [%d]' % os.getpid())

    on_terminate(shutdown)

    if backend == 'ray':
        wait_for_ray_gpus(log, world)
    startup = env_float('SML_STANDIN_STARTUP_S', 2)
    log.info('Starting to load model %s...' % model, where='gpu_model_runner.py:2338')
    if mode == 'nccl':
        time.sleep(min(startup, 0.5))
        fail_nccl('vllm', host_address())
    if mode == 'oom':
        time.sleep(min(startup, 0.5))
        fail_oom('vllm')
    if mode == 'hang':
        sleep_forever()
    time.sleep(startup)
    log.info('Model loading took 15.24 GiB and %.2f seconds' % startup, where='gpu_model_runner.py:2370')
    log.info('GPU KV cache size: 200,000 tokens', where='kv_cache_utils.py:1087')
    log.info('Starting vLLM API server 0 on http://%s:%d' % (host, port), where='api_server.py:1971')
    log.info('Available routes are:', where='launcher.py:36')
    for route in ROUTES:
        log.info('Route: %s, Methods: %s' % (route, 'POST' if 'completions' in route else 'GET'), where='launcher.py:44')
    log.uvicorn('Started server process [%d]' % os.getpid())
    log.uvicorn('Waiting for application startup.')
    state.ready = True
    log.uvicorn('Application startup complete.')
    log.uvicorn('Uvicorn running on http://%s:%d (Press CTRL+C to quit)' % (host, port))

    if mode == 'exit_after_ready':
        time.sleep(env_float('SML_STANDIN_FAIL_AFTER_S', 5))
        log.error('Engine core proc EngineCore_0 died unexpectedly, shutting down client.', where='core_client.py:564')
        die(1)
    if mode == 'unhealthy':
        time.sleep(env_float('SML_STANDIN_FAIL_AFTER_S', 5))
        log.error('EngineCore encountered an issue (stand-in, SML_STANDIN_FAIL=unhealthy)', where='core.py:700')
        state.unhealthy = True
    sleep_forever()
