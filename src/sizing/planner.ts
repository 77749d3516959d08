import type { Framework } from '../domain/framework.js';
import type { ModelArchitecture } from './architecture.js';
import type { GpuSpec } from './gpus.js';
import {
  type GpuMemoryPlan,
  type KvCacheDtype,
  type KvCost,
  kvBytesFor,
  kvCost,
  maxContextFor,
  planGpuMemory,
  weightBytesPerGpu,
} from './memory.js';
import type { ParameterEstimate } from './parameters.js';
import type { SizingLayout } from './schema.js';

/**
 * The planner: walk replica shapes from the smallest up (1 GPU, 2, … a node, then 2 nodes, 3 …),
 * shaped the way each engine spans nodes — sglang: tensor parallel over all GPUs of all nodes;
 * vLLM: tensor parallel inside a node, pipeline parallel across nodes — and keep the first that
 * passes the engines' divisibility rules and holds the weights plus the target KV cache.
 */

export interface SizedModel {
  arch: ModelArchitecture;
  params: ParameterEstimate;
  /** Multiplier from the architecture estimate to the real weight bytes (index or given parameter count). */
  weightScale: number;
}

export interface PlanRequest {
  framework: Framework;
  gpu: GpuSpec;
  gpusPerNode: number;
  context: number;
  concurrency: number;
  objective: 'latency' | 'throughput';
  kvDtype: KvCacheDtype;
  maxNodes: number;
  isSpeculative: boolean;
}

export interface LayoutShape {
  tp: number;
  pp: number;
  nodes: number;
  gpus: number;
}

export interface DivisibilityCheck {
  /** Rules that rule the layout out. */
  problems: string[];
  /** Problems that only expert parallelism removes (expert slices not aligned to quantization blocks). */
  expertShardProblems: string[];
  /** Legal but worth knowing (uneven pipeline stages, replicated KV heads). */
  warnings: string[];
}

export interface PlannedLayout {
  layout: SizingLayout;
  memory: GpuMemoryPlan;
  kv: KvCost;
  kvCapacityTokens: number;
  maxContext: number;
  maxConcurrency: number;
  isTargetMet: boolean;
  doWeightsFit: boolean;
  warnings: string[];
}

export interface Plan {
  chosen?: PlannedLayout;
  fits: boolean;
  /** Why shapes were skipped, for the warnings of a plan that does not fit. */
  rejections: string[];
}

function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}

/** Candidate replica shapes, smallest first. */
export function layoutShapes(framework: Framework, gpusPerNode: number, maxNodes: number): LayoutShape[] {
  const shapes: LayoutShape[] = divisors(gpusPerNode).map((g) => ({ tp: g, pp: 1, nodes: 1, gpus: g }));
  for (let nodes = 2; nodes <= maxNodes; nodes++) {
    const gpus = nodes * gpusPerNode;
    shapes.push(
      framework === 'sglang' ? { tp: gpus, pp: 1, nodes, gpus } : { tp: gpusPerNode, pp: nodes, nodes, gpus },
    );
  }
  return shapes;
}

/** The multiple a weight slice must be to suit the checkpoint's quantization kernels (1 when none). */
function shardAlignment(arch: ModelArchitecture): number {
  const quant = arch.quantization;
  if (!quant?.needsAlignedShards) return 1;
  if (quant.blockSize) return Math.max(...quant.blockSize);
  return quant.groupSize ?? 1;
}

function checkSlice(width: number, tp: number, align: number, what: string): string | undefined {
  if (width % tp !== 0) return `${what} of ${width} does not split over tp ${tp}`;
  const slice = width / tp;
  if (slice % align !== 0)
    return `${what} slice ${width}/${tp} = ${slice} is not a multiple of the ${align}-wide quantization blocks`;
  return undefined;
}

/**
 * The engines' divisibility rules: attention heads split evenly over tp; KV heads split evenly, or
 * tp is a multiple of them (each rank then keeps a copy of one); linear-attention heads split
 * evenly; experts split evenly over ep; quantized MLP slices stay whole blocks/groups; layers over
 * pp may be uneven (vLLM allows it) but the largest stage decides memory.
 */
export function checkDivisibility(
  arch: ModelArchitecture,
  tp: number,
  pp: number,
  ep: number,
): DivisibilityCheck {
  const problems: string[] = [];
  const expertShardProblems: string[] = [];
  const warnings: string[] = [];
  if (arch.numHeads % tp !== 0) problems.push(`${arch.numHeads} attention heads do not split over tp ${tp}`);
  if (!arch.mla) {
    const kvShapes = [
      arch.numKvHeads,
      ...(arch.fullAttentionShape ? [arch.fullAttentionShape.numKvHeads] : []),
    ];
    for (const kv of new Set(kvShapes)) {
      if (kv >= tp ? kv % tp !== 0 : tp % kv !== 0) {
        problems.push(`${kv} KV heads do not split over tp ${tp} (nor is tp a multiple of them)`);
      } else if (kv < tp) {
        warnings.push(
          `tp ${tp} exceeds the ${kv} KV heads: each GPU keeps a copy of one KV head, so KV per GPU stops shrinking at tp ${kv}.`,
        );
      }
    }
  } else if (tp > 1) {
    warnings.push(
      `MLA: every tensor-parallel rank keeps the whole compressed KV latent, so KV per GPU does not shrink with tp ${tp}.`,
    );
  }
  const la = arch.linearAttention;
  if (la) {
    if (la.numKeyHeads % tp !== 0)
      problems.push(`${la.numKeyHeads} linear-attention key heads do not split over tp ${tp}`);
    if (la.numValueHeads % tp !== 0)
      problems.push(`${la.numValueHeads} linear-attention value heads do not split over tp ${tp}`);
  }
  const align = shardAlignment(arch);
  const quant = arch.quantization;
  const moe = arch.moe;
  if (moe) {
    if (ep > 1 && moe.numExperts % ep !== 0)
      problems.push(`${moe.numExperts} experts do not split over ep ${ep}`);
    if (ep === 1 && moe.expertIntermediateSize > 0) {
      const routedAlign = quant?.parts.routedExperts ? align : 1;
      const problem = checkSlice(moe.expertIntermediateSize, tp, routedAlign, 'expert intermediate size');
      if (problem) expertShardProblems.push(problem);
    }
    // Shared experts are routed-expert sized (DeepSeek's n_shared_experts) and/or of their own size (Qwen's).
    const sharedAlign = quant?.parts.sharedExperts ? align : 1;
    const sharedSizes = [
      moe.sharedExperts > 0 ? moe.expertIntermediateSize : 0,
      moe.sharedIntermediateSize ?? 0,
    ];
    for (const size of sharedSizes.filter((s) => s > 0)) {
      const problem = checkSlice(size, tp, sharedAlign, 'shared expert intermediate size');
      if (problem) problems.push(problem);
    }
  }
  const hasDense = !moe || moe.isMoeLayer.some((isMoe) => !isMoe) || moe.hasParallelDenseMlp;
  if (hasDense && arch.intermediateSize) {
    const problem = checkSlice(
      arch.intermediateSize,
      tp,
      quant?.parts.denseMlp ? align : 1,
      'MLP intermediate size',
    );
    if (problem) problems.push(problem);
  }
  if (pp > 1 && arch.numLayers % pp !== 0) {
    warnings.push(
      `${arch.numLayers} layers do not split evenly over pp ${pp}: the largest stage holds ${Math.ceil(arch.numLayers / pp)}.`,
    );
  }
  return { problems, expertShardProblems, warnings };
}

/** Evaluate one layout: memory of the fullest GPU, KV capacity, and whether the target fits. */
export function evaluateLayout(
  model: SizedModel,
  request: PlanRequest,
  shape: LayoutShape,
  ep: number,
): PlannedLayout {
  const { arch, params, weightScale } = model;
  const layout = { tp: shape.tp, pp: shape.pp, ep };
  const weights = weightBytesPerGpu(arch, params, layout, weightScale);
  const memory = planGpuMemory(request.framework, request.gpu, arch, weights, layout, {
    isSpeculative: request.isSpeculative,
  });
  const kv = kvCost(arch, request.kvDtype, layout, request.context);
  const pool = Math.max(0, memory.kvPoolBytes);
  const perRequest = kvBytesFor(kv, request.context, 1);
  const maxConcurrency = perRequest > 0 ? Math.floor(pool / perRequest) : 0;
  const kvCapacityTokens = perRequest > 0 ? Math.floor((pool / perRequest) * request.context) : 0;
  const modelMax = arch.maxPositionEmbeddings ?? Number.POSITIVE_INFINITY;
  const unbounded = maxContextFor(kv, pool, request.concurrency);
  const maxContext = Math.min(unbounded, modelMax);
  return {
    layout: {
      gpus_per_replica: shape.gpus,
      nodes_per_replica: shape.nodes,
      tp: shape.tp,
      pp: shape.pp,
      ep,
      replicas_per_node: shape.nodes === 1 ? Math.floor(request.gpusPerNode / shape.gpus) : 1,
    },
    memory,
    kv,
    kvCapacityTokens,
    maxContext: Number.isFinite(maxContext) ? maxContext : kvCapacityTokens,
    maxConcurrency,
    isTargetMet: memory.kvPoolBytes > 0 && maxConcurrency >= request.concurrency,
    doWeightsFit: memory.kvPoolBytes > 0,
    warnings: [],
  };
}

/** The layout of a shape that the divisibility rules allow, with expert parallelism when that is what makes it legal. */
export function legalLayout(
  model: SizedModel,
  request: PlanRequest,
  shape: LayoutShape,
): { planned?: PlannedLayout; rejection?: string } {
  const describe = `${shape.gpus} GPU${shape.gpus > 1 ? 's' : ''} (tp ${shape.tp}${shape.pp > 1 ? `, pp ${shape.pp}` : ''})`;
  const plain = checkDivisibility(model.arch, shape.tp, shape.pp, 1);
  if (plain.problems.length > 0) return { rejection: `${describe}: ${plain.problems.join('; ')}` };
  if (plain.expertShardProblems.length === 0) {
    const planned = evaluateLayout(model, request, shape, 1);
    planned.warnings.push(...plain.warnings);
    return { planned };
  }
  // Whole experts per rank instead of slices: the slices would break the quantization blocks.
  const withEp = checkDivisibility(model.arch, shape.tp, shape.pp, shape.tp);
  if (withEp.problems.length > 0 || withEp.expertShardProblems.length > 0) {
    return { rejection: `${describe}: ${[...plain.expertShardProblems, ...withEp.problems].join('; ')}` };
  }
  const planned = evaluateLayout(model, request, shape, shape.tp);
  planned.warnings.push(
    ...withEp.warnings,
    `Expert parallelism (ep ${shape.tp}) is needed: ${plain.expertShardProblems.join('; ')}.`,
  );
  return { planned };
}

/** The smallest layout that fits (or, for latency, the widest one-node layout once one node fits). */
export function planLayout(model: SizedModel, request: PlanRequest): Plan {
  const rejections: string[] = [];
  const legal: PlannedLayout[] = [];
  for (const shape of layoutShapes(request.framework, request.gpusPerNode, request.maxNodes)) {
    const { planned, rejection } = legalLayout(model, request, shape);
    if (rejection) rejections.push(rejection);
    if (planned) legal.push(planned);
  }
  const fitting = legal.filter((p) => p.isTargetMet);
  let chosen = fitting[0];
  if (chosen && request.objective === 'latency' && chosen.layout.nodes_per_replica === 1) {
    const wholeNode = fitting.filter((p) => p.layout.nodes_per_replica === 1).at(-1);
    if (wholeNode) chosen = wholeNode;
  }
  if (chosen) return { chosen, fits: true, rejections };
  // Nothing meets the target: the smallest layout that holds the weights, else the largest legal one.
  const fallback = legal.find((p) => p.doWeightsFit) ?? legal.at(-1);
  return { chosen: fallback, fits: false, rejections };
}
