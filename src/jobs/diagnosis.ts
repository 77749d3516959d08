import type { JobInfo } from '../scheduler/scheduler.js';
import type { FailureHint } from './types.js';

/**
 * Known failure signatures in the logs of a serving job, each with its cause and its fix.
 * Ordered by specificity: the first signature found (in the order of the logs given) wins.
 */
interface Signature {
  id: string;
  /** A few words for lists of what sml-mcp recognises. */
  title: string;
  pattern: RegExp;
  cause: (match: RegExpMatchArray) => string;
  fix: string;
}

const SIGNATURES: Signature[] = [
  {
    id: 'gpu_oom',
    title: 'GPU out of memory',
    pattern:
      /CUDA out of memory|torch\.OutOfMemoryError|OutOfMemoryError: CUDA|HIP out of memory|out of memory.*(?:GPU|device)/i,
    cause: () => 'The engine ran out of GPU memory while loading the model or reserving its KV cache.',
    fix: 'Use more GPUs per replica (size_model shows the layout that fits), a quantized checkpoint, a smaller --context-length/--max-model-len, or lower --mem-fraction-static (sglang) / --gpu-memory-utilization (vLLM).',
  },
  {
    id: 'model_path_missing',
    title: 'model path missing',
    // transformers (sglang), vLLM and generic wordings; every alternative captures the path.
    pattern:
      /Invalid repository ID or local directory specified: '([^']+)'|Incorrect path_or_model_id: '([^']+)'|(?:model path|model_path)\s+(?:does not exist|not found)[:\s]*['"]?([^\s'"]+)|OSError: ([^\s]+) is not a local folder and is not a valid model identifier|No such file or directory: ['"]([^'"]*config\.json)['"]/i,
    cause: (m) =>
      `The model path ${m.slice(1).find((g) => g !== undefined) ?? '(see the log line)'} does not exist or holds no config.json on the cluster.`,
    fix: 'Check the path on the cluster (it must be a directory with config.json and the weights), or launch a catalog model (list_models).',
  },
  {
    id: 'image_missing',
    title: 'container image missing',
    pattern: /Container image not found: (\S+)|(?:image|squashfs).*(?:not found|does not exist)/i,
    cause: (m) =>
      `The container image ${m[1] ?? ''} of the environment file does not exist on the cluster.`.replace(
        '  ',
        ' ',
      ),
    fix: "Point the environment file's `image` at an existing .sqsh (or registry image), or use another environment.",
  },
  {
    id: 'port_in_use',
    title: 'port in use',
    pattern: /address already in use|Errno 98|port \d+ is (?:already )?in use/i,
    cause: () => 'A port the engine needs is already taken on the node (another job or a stale process).',
    fix: 'Relaunch (the job takes whole nodes with --exclusive, so this is usually a leftover process); if it persists, report the node to the cluster admins.',
  },
  {
    id: 'nccl',
    title: 'NCCL failures',
    pattern:
      /NCCL (?:error|WARN.*(?:failed|Error))|ncclInternalError|ncclSystemError|ncclUnhandledCudaError|NCCL_ERROR/i,
    cause: () => 'NCCL (the GPU collective library) failed between GPUs or nodes.',
    fix: "Check the environment file's NCCL/libfabric settings for this system, relaunch on other nodes, or run with NCCL_DEBUG=INFO in the environment to see which link failed.",
  },
  {
    id: 'python_import',
    title: 'Python import errors',
    pattern: /(?:ModuleNotFoundError|ImportError): (.+)/,
    cause: (m) => `The engine could not import a Python module: ${m[1]!.trim()}.`,
    fix: "The environment (container image) lacks a package: use the framework's environment file, or install it with pre_launch_cmds (e.g. pip install …).",
  },
  {
    id: 'chain_broken',
    title: 'a broken chain',
    pattern: /sml-mcp: chain broken: job (\d+)/,
    cause: (m) =>
      `The chain is broken: job ${m[1]} before this one never ran (it was cancelled while queued) or ended the chain, so this job ended instead of starting early and overlapping.`,
    fix: 'Cancel the rest of the chain, and launch again for the time still wanted.',
  },
  {
    id: 'engine_killed',
    title: 'an engine killed by a signal',
    pattern:
      /srun: error: (\S+): task \d+: (Killed|Terminated|Segmentation fault|Aborted|Bus error)|sml-mcp: replica (\d+) exited with code \d+ \((SIG\w+)\)/,
    cause: (m) =>
      m[1]
        ? `The engine on ${m[1]} was killed by a signal (${m[2]}).`
        : `The engine of replica ${m[3]} was killed by ${m[4]}.`,
    fix: "SIGKILL without a traceback is usually the node's out-of-memory killer (host RAM, not GPU) or an administrator: check the node's memory use and lower the engine's CPU-side buffers; a segmentation fault or abort points at the engine or its drivers (see the replica's .err).",
  },
];

/** What diagnoseFailure recognises, for people and agents: "GPU out of memory, …, the time limit". */
export function describeKnownFailures(): string {
  return [...SIGNATURES.map((signature) => signature.title), 'the time limit'].join(', ');
}

export interface LogText {
  file: string;
  text: string;
}

/** The first known failure signature in the given logs, or a time-limit hint from the SLURM state. */
export function diagnoseFailure(logs: readonly LogText[], info?: JobInfo): FailureHint | null {
  for (const signature of SIGNATURES) {
    for (const log of logs) {
      const match = log.text.match(signature.pattern);
      if (!match) continue;
      const line = lineAround(log.text, match.index ?? 0);
      return {
        signature: signature.id,
        cause: signature.cause(match),
        fix: signature.fix,
        file: log.file,
        line,
      };
    }
  }
  if (info?.state === 'TIMEOUT' || info?.state === 'DEADLINE') {
    return {
      signature: 'time_limit',
      cause: `The job reached its time limit (${info.timeLimit ?? 'unknown'}).`,
      fix: 'Launch with a longer time, or with consecutive chaining (consecutive: true) to serve past the per-job cap.',
      file: 'log.err',
      line: info.reason ?? 'TIMEOUT',
    };
  }
  const signal = Number(info?.exitCode?.split(':')[1] ?? 0);
  if (signal > 0) {
    return {
      signature: 'engine_killed',
      cause: `The job was ended by signal ${signal}${SIGNAL_NAMES[signal] ? ` (${SIGNAL_NAMES[signal]})` : ''}.`,
      fix: 'SIGKILL without a traceback is usually the out-of-memory killer or an administrator; see the replica logs.',
      file: 'log.err',
      line: `exit code ${info!.exitCode}`,
    };
  }
  return null;
}

const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  6: 'SIGABRT',
  7: 'SIGBUS',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  15: 'SIGTERM',
};

function lineAround(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return text
    .slice(start, end === -1 ? undefined : end)
    .trim()
    .slice(0, 400);
}
