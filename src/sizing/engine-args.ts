import type { Framework } from '../domain/framework.js';
import type { ModelArchitecture } from './architecture.js';
import type { KvCacheDtype } from './memory.js';
import type { PlannedLayout, PlanRequest } from './planner.js';

/** The engine arguments a planned layout needs (sglang or vLLM), and what the launcher adds itself. */

/** The context to pass to the engine: the target when given, else the most one request can have when below the model maximum. */
export function contextArgument(
  planned: PlannedLayout,
  arch: ModelArchitecture,
  request: PlanRequest,
  isContextGiven: boolean,
): number | undefined {
  if (isContextGiven) return request.context;
  const modelMax = arch.maxPositionEmbeddings;
  if (modelMax === undefined) return undefined;
  const single =
    planned.kv.perToken > 0
      ? Math.max(
          0,
          planned.memory.kvPoolBytes - planned.kv.perRequest - planned.kv.window * planned.kv.perWindowToken,
        ) / planned.kv.perToken
      : Infinity;
  // vLLM refuses to start when one request of max-model-len does not fit; sglang would accept prompts it cannot hold.
  if (single >= modelMax) return undefined;
  return Math.max(1024, Math.floor(single / 1024) * 1024);
}

/** Engine arguments (argv) for a layout. sml-mcp adds --nnodes/--node-rank/--dist-init-addr (or Ray) itself. */
export function buildFrameworkArgs(
  framework: Framework,
  layout: { tp: number; pp: number; ep: number },
  options: { context?: number; kvDtype?: KvCacheDtype; onlineFp8?: boolean; dataParallel?: number } = {},
): string[] {
  const args: string[] = [];
  if (framework === 'sglang') {
    if (layout.tp > 1) args.push('--tp-size', String(layout.tp));
    if (layout.pp > 1) args.push('--pp-size', String(layout.pp));
    if (layout.ep > 1) args.push('--ep-size', String(layout.ep));
    if (options.dataParallel && options.dataParallel > 1)
      args.push('--dp-size', String(options.dataParallel));
    if (options.context) args.push('--context-length', String(options.context));
    if (options.kvDtype === 'fp8') args.push('--kv-cache-dtype', 'fp8_e4m3');
    if (options.onlineFp8) args.push('--quantization', 'fp8');
  } else {
    if (layout.tp > 1) args.push('--tensor-parallel-size', String(layout.tp));
    if (layout.pp > 1) args.push('--pipeline-parallel-size', String(layout.pp));
    if (layout.ep > 1) args.push('--enable-expert-parallel');
    if (options.dataParallel && options.dataParallel > 1)
      args.push('--data-parallel-size', String(options.dataParallel));
    if (options.context) args.push('--max-model-len', String(options.context));
    if (options.kvDtype === 'fp8') args.push('--kv-cache-dtype', 'fp8');
    if (options.onlineFp8) args.push('--quantization', 'fp8');
  }
  return args;
}

export function launcherArgs(framework: Framework, nodes: number): string[] {
  if (nodes <= 1) return [];
  return framework === 'sglang'
    ? ['--nnodes', String(nodes), '--node-rank', '<rank>', '--dist-init-addr', '<head-ip>:5757']
    : ['--distributed-executor-backend', 'ray'];
}
