"""Stand-in for `python3 -m sglang.launch_server`."""

import math
import os
import sys
import time

from . import VERSION
from .common import (
    Log,
    bind_listener,
    die,
    env_float,
    fail_missing_model_transformers,
    fail_nccl,
    fail_oom,
    failure_mode,
    host_address,
    hostname,
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
from .rendezvous import Follower, Head
from .serving import EngineState, serve_on

SPEC = {
    '--model-path': 'value',
    '--tokenizer-path': 'value',
    '--host': 'value',
    '--port': 'value',
    '--served-model-name': 'value',
    '--tp-size': 'value',
    '--dp-size': 'value',
    '--pp-size': 'value',
    '--ep-size': 'value',
    '--nnodes': 'value',
    '--node-rank': 'value',
    '--dist-init-addr': 'value',
    '--context-length': 'value',
    '--mem-fraction-static': 'value',
    '--max-running-requests': 'value',
    '--enable-metrics': 'bool',
    '--enable-dp-attention': 'bool',
    '--trust-remote-code': 'bool',
    '--skip-server-warmup': 'bool',
}
ALIASES = {
    '--model': '--model-path',
    '--tp': '--tp-size',
    '--tensor-parallel-size': '--tp-size',
    '--dp': '--dp-size',
    '--data-parallel-size': '--dp-size',
    '--pp': '--pp-size',
    '--pipeline-parallel-size': '--pp-size',
    '--ep': '--ep-size',
    '--nproc-per-node': '--tp-size',
}
PROG = 'launch_server.py'


def usage_error(message):
    print('usage: %s [-h] --model-path MODEL_PATH [--host HOST] [--port PORT] ...' % PROG, file=sys.stderr)
    print('%s: error: %s' % (PROG, message), file=sys.stderr)
    die(2)


def main(argv):
    log = Log('sglang')
    try:
        args = parse_args(argv, SPEC, ALIASES)
        port = parse_int(args, '--port', 30000)
        tp = parse_int(args, '--tp-size', 1)
        dp = parse_int(args, '--dp-size', 1)
        pp = parse_int(args, '--pp-size', 1)
        nnodes = parse_int(args, '--nnodes', 1)
        node_rank = parse_int(args, '--node-rank', 0)
    except ValueError as error:
        usage_error(str(error))
    if args.positional:
        usage_error('unrecognized arguments: %s' % ' '.join(args.positional))
    model_path = args.get('--model-path')
    if not model_path:
        usage_error('the following arguments are required: --model-path/--model')
    host = args.get('--host', '127.0.0.1')
    served = args.get('--served-model-name') or model_path
    dist_init = args.get('--dist-init-addr')
    if nnodes > 1 and not dist_init:
        usage_error('--dist-init-addr is required when --nnodes > 1')
    if not 0 <= node_rank < nnodes:
        usage_error('--node-rank %d is out of range for --nnodes %d' % (node_rank, nnodes))

    log.info("server_args=ServerArgs(model_path='%s', served_model_name='%s', host='%s', port=%d, tp_size=%d, "
             "dp_size=%d, pp_size=%d, nnodes=%d, node_rank=%d, dist_init_addr=%r, enable_metrics=%s)" % (
                 model_path, served, host, port, tp, dp, pp, nnodes, node_rank, dist_init,
                 bool(args.get('--enable-metrics'))))
    print_gpu_slice(log)
    if args.unknown:
        log.info('stand-in: ignoring flags it does not model: %s' % ' '.join(name for name, _ in args.unknown))
    mode = failure_mode()

    if not model_dir_ok(model_path):
        fail_missing_model_transformers(model_path)
    config = read_model_config(model_path)

    gpus_needed = int(math.ceil(tp * pp * (1 if args.get('--enable-dp-attention') else dp) / float(nnodes)))
    if gpus_needed > len(visible_gpus()):
        sys.stderr.write(
            'Traceback (most recent call last):\n'
            '  File "/sgl-workspace/sglang/python/sglang/srt/managers/scheduler.py", line 2812, in run_scheduler_process\n'
            '    torch.cuda.set_device(gpu_id)\n'
            'RuntimeError: CUDA error: invalid device ordinal\n'
            'CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below '
            'might be incorrect.\n'
            '(stand-in: this node needs %d GPU(s) for tp=%d pp=%d dp=%d over %d node(s) but sees %d)\n' % (
                gpus_needed, tp, pp, dp, nnodes, len(visible_gpus())))
        die(1)

    state = EngineState('sglang', [served], model_path, VERSION)
    state.max_model_len = parse_int(args, '--context-length', int(config.get('max_position_embeddings') or 32768))
    state.max_running = parse_int(args, '--max-running-requests', state.max_running)
    head = follower = None

    if node_rank == 0:
        try:
            sock = bind_listener(host, port)
        except OSError as error:
            if is_addr_in_use(error):
                log.uvicorn('Started server process [%d]' % os.getpid())
                print("ERROR:    [Errno 98] error while attempting to bind on address ('%s', %d): "
                      'address already in use' % (host, port), file=sys.stderr)
                die(1)
            raise
        serve_on(sock, state, metrics_enabled=bool(args.get('--enable-metrics')))
        if nnodes > 1:
            head = Head(log, int(dist_init.rsplit(':', 1)[1]), nnodes)
    else:
        head_host, head_port = dist_init.rsplit(':', 1)
        follower = Follower(log, head_host, int(head_port), node_rank, hostname())

    def shutdown(signum):
        log.info('Received sigterm=%d, shutting down' % signum)
        if head is not None:
            head.bye(0)
        if follower is not None:
            follower.leave()

    on_terminate(shutdown)

    startup = env_float('SML_STANDIN_STARTUP_S', 2)
    log.info('Init torch distributed begin. (node %s, rank %d/%d)' % (host_address(), node_rank, nnodes))
    if mode == 'nccl':
        time.sleep(min(startup, 0.5))
        fail_nccl('sglang/srt', dist_init.rsplit(':', 1)[0] if dist_init else host_address())
    if follower is not None:
        follower.join()
    log.info('Load weight begin. avail mem=94.12 GB')
    if mode == 'oom':
        time.sleep(min(startup, 0.5))
        fail_oom('sglang/srt')
    if mode == 'hang':
        log.info('Loading safetensors checkpoint shards:   0% Completed | 0/8 [00:00<?, ?it/s]')
        sleep_forever()
    time.sleep(startup)
    log.info('Loading safetensors checkpoint shards: 100%% Completed | 8/8 [00:%02d<00:00]' % int(startup))
    log.info('Load weight end. type=%s, dtype=%s, avail mem=60.03 GB' % (
        (config.get('architectures') or ['StandInForCausalLM'])[0], config.get('torch_dtype', 'bfloat16')))
    log.info('KV Cache is allocated. #tokens: 200000, K size: 12.21 GB, V size: 12.21 GB')
    log.info('Capture cuda graph end. Time elapsed: 0.01 s.')

    if follower is not None:
        code = follower.wait_for_head()
        die(code)

    if head is not None:
        last_note = 0.0
        while not head.all_joined():
            if time.time() - last_note > 10:
                last_note = time.time()
                log.info('Waiting for all %d follower node(s) to join before serving' % (nnodes - 1))
            time.sleep(0.1)

    log.uvicorn('Started server process [%d]' % os.getpid())
    log.uvicorn('Waiting for application startup.')
    log.uvicorn('Application startup complete.')
    log.uvicorn('Uvicorn running on http://%s:%d (Press CTRL+C to quit)' % (host, port))
    state.ready = True
    log.info('The server is fired up and ready to roll!')

    if mode == 'exit_after_ready':
        time.sleep(env_float('SML_STANDIN_FAIL_AFTER_S', 5))
        log.error('Scheduler hit an exception: RuntimeError: stand-in engine exited on request (SML_STANDIN_FAIL)')
        if head is not None:
            head.bye(1)
        die(1)
    if mode == 'unhealthy':
        time.sleep(env_float('SML_STANDIN_FAIL_AFTER_S', 5))
        log.error('Health check failed: the scheduler stopped responding (stand-in, SML_STANDIN_FAIL=unhealthy)')
        state.unhealthy = True
    sleep_forever()
