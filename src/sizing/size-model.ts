import type { CatalogEntry } from '../catalog/catalog.js';
import { loadShippedCatalog } from '../catalog/catalog.js';
import type { Framework } from '../domain/framework.js';
import { hasOption, toArgv } from '../domain/framework-args.js';
import { BUILT_IN_SYSTEMS, type SystemProfile } from '../domain/system.js';
import { SmlError } from '../errors.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { type ModelArchitecture, parseModelConfig } from './architecture.js';
import { findGpu, type GpuSpec, gpuFromProfile } from './gpus.js';
import { GiB, type KvCacheDtype, kvCost, modelWeightBytes } from './memory.js';
import { estimateParameters, type ParameterEstimate } from './parameters.js';
import { type Plan, type PlannedLayout, type PlanRequest, planLayout, type SizedModel } from './planner.js';
import { parseQuantization } from './quantization.js';
import {
  type ModelSummary,
  type SizeModelInput,
  SizeModelInput as SizeModelInputSchema,
  SizeModelResult,
  type SizingAlternative,
} from './schema.js';
import { type CatalogModelRef, loadModelFiles, type ModelFiles, type ModelSourceDeps } from './source.js';

/**
 * `sizeModel`: read a model's config, estimate its memory, and plan the smallest replica layout
 * for a system or GPU type and an engine. Pure apart from reading the config (local, registry
 * through the Scheduler, or the Hub); the MCP tool, the CLI and `launch layout:"auto"` call this.
 */

export interface SizingDeps extends Omit<ModelSourceDeps, 'registryPath'> {
  /** System profiles to look `system` up in; default BUILT_IN_SYSTEMS. */
  systems?: readonly SystemProfile[];
  /** System used when the input names neither a system nor a GPU; default clariden. */
  defaultSystem?: string;
  /** Model registry root on the cluster; default the system profile's `modelRegistry`. */
  registryPath?: string;
  /**
   * The scheduler of a system, to read its model registry when `scheduler` is not given. A system
   * without credentials (NOT_CONFIGURED) is skipped: the config then comes from the Hub.
   */
  schedulerFor?: (system: SystemProfile) => Scheduler;
}

/** Default target context when none is given: the model maximum, at most this. */
export const DEFAULT_CONTEXT = 32768;
/** Default concurrency: a small shared batch, the least at which serving a team is useful. */
export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_MAX_NODES = 16;
const DEFAULT_SYSTEM = 'clariden';

/** A resolver from catalog ids to catalog facts (registry path, framework, recipe). */
export function catalogModelResolver(
  entries: readonly CatalogEntry[],
  registryPath?: string,
): (id: string) => CatalogModelRef | undefined {
  return (id) => {
    const entry = entries.find((e) => e.model === id);
    if (!entry) return undefined;
    const root = registryPath?.replace(/\/+$/, '');
    return {
      id: entry.model,
      framework: entry.framework,
      registryPath: entry.model_path ?? (root ? `${root}/${entry.model}` : undefined),
      frameworkArgs: entry.framework_args,
      nodesPerReplica: entry.nodes_per_replica,
    };
  };
}

function parseInput(input: unknown): SizeModelInput {
  const parsed = SizeModelInputSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || 'input';
  throw new SmlError('INVALID_ARGUMENT', `size_model: ${field} is invalid (${issue.message}).`, {
    hint: 'model is required; system or gpu, framework, context_length, concurrency and objective are optional.',
    details: { field },
  });
}

function resolveHardware(
  input: SizeModelInput,
  deps: SizingDeps,
): { system?: SystemProfile; gpu: GpuSpec; gpusPerNode: number } {
  const systems = deps.systems ?? BUILT_IN_SYSTEMS;
  const systemName = input.system ?? (input.gpu ? undefined : (deps.defaultSystem ?? DEFAULT_SYSTEM));
  let system: SystemProfile | undefined;
  if (systemName) {
    system = systems.find((s) => s.name === systemName);
    if (!system) {
      throw new SmlError('UNKNOWN_SYSTEM', `Unknown system '${systemName}'.`, {
        hint: `Use one of ${systems.map((s) => s.name).join(', ')}, or give a GPU type with gpu.`,
        details: { system: systemName },
      });
    }
  }
  // A GPU type wins over the system's GPU; the system still gives the model registry.
  const gpu = input.gpu ? findGpu(input.gpu) : gpuFromProfile(system!.gpu);
  const gpusPerNode = input.gpus_per_node ?? (input.gpu ? gpu.gpusPerNode : system!.gpu.perNode);
  return { system, gpu: { ...gpu, gpusPerNode }, gpusPerNode };
}

const GIB_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

function gib(bytes: number): string {
  return `${GIB_FORMAT.format(bytes / GiB)} GiB`;
}

function kib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${GIB_FORMAT.format(bytes / 1024 / 1024)} MiB`
    : `${Math.round(bytes / 1024)} KiB`;
}

function billions(params: number): string {
  return `${GIB_FORMAT.format(params / 1e9)} B`;
}

/** Token counts the way context lengths are spoken of: k = 1024 tokens (32768 → 32k), M = 1024². */
export function formatTokens(tokens: number): string {
  if (tokens >= 1024 * 1024) return `${GIB_FORMAT.format(tokens / 1024 / 1024)}M`;
  if (tokens >= 10 * 1024) return `${Math.round(tokens / 1024)}k`;
  return String(Math.round(tokens));
}

function quantizedParts(arch: ModelArchitecture): string[] {
  const quant = arch.quantization;
  if (!quant || quant.unknown) return [];
  const present = new Set<string>(['attention', 'denseMlp']);
  if (arch.moe) present.add('routedExperts');
  if (arch.moe && (arch.moe.sharedExperts > 0 || arch.moe.sharedIntermediateSize))
    present.add('sharedExperts');
  if (arch.layerKinds.includes('linear')) present.add('linearAttention');
  if (arch.moe && !arch.moe.isMoeLayer.some((m) => !m) && !arch.moe.hasParallelDenseMlp)
    present.delete('denseMlp');
  return Object.entries(quant.parts)
    .filter(([part, isQuantized]) => isQuantized && present.has(part))
    .map(([part]) => part);
}

function summarize(
  id: string,
  files: ModelFiles,
  arch: ModelArchitecture,
  params: ParameterEstimate,
  weightsSource: ModelSummary['weights_source'],
  givenParams?: number,
): ModelSummary {
  const count = (kind: string) => arch.layerKinds.filter((k) => k === kind).length;
  const scale = givenParams ? givenParams / Math.max(1, params.total) : 1;
  return {
    id,
    origin: files.origin,
    location: files.location,
    model_type: arch.textModelType ? `${arch.modelType} (${arch.textModelType})` : arch.modelType,
    architectures: arch.architectures,
    attention: arch.attentionKind,
    layers: arch.numLayers,
    full_attention_layers: count('full'),
    sliding_window_layers: count('sliding'),
    linear_attention_layers: count('linear'),
    sliding_window: count('sliding') > 0 ? (arch.slidingWindow ?? null) : null,
    hidden_size: arch.hiddenSize,
    attention_heads: arch.numHeads,
    kv_heads: arch.numKvHeads,
    head_dim: arch.headDim,
    kv_lora_rank: arch.mla?.kvLoraRank ?? null,
    moe: arch.moe
      ? {
          experts: arch.moe.numExperts,
          experts_per_token: arch.moe.expertsPerToken,
          shared_experts: arch.moe.sharedExperts,
          expert_intermediate_size: arch.moe.expertIntermediateSize,
          moe_layers: arch.moe.isMoeLayer.filter(Boolean).length,
        }
      : null,
    total_params: Math.round(params.total * scale),
    active_params: Math.round(params.active * scale),
    params_source: givenParams ? 'parameter_count' : 'architecture',
    weights_source: weightsSource,
    dtype: arch.dtype,
    quantization: arch.quantization
      ? {
          method: arch.quantization.method,
          format: arch.quantization.format,
          bits: arch.quantization.bits,
          bytes_per_weight: Math.round(arch.quantization.bytesPerWeight * 10000) / 10000,
          quantized_parts: quantizedParts(arch),
        }
      : null,
    max_position_embeddings: arch.maxPositionEmbeddings ?? null,
    tied_embeddings: arch.tiedEmbeddings,
    multimodal: arch.isMultimodal,
    mtp_layers: arch.mtpLayers,
    missing_facts: arch.missing,
    notes: arch.notes,
  };
}

/** The context to pass to the engine: the target when given, else the most one request can have when below the model maximum. */
function contextArgument(
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

function launcherArgs(framework: Framework, nodes: number): string[] {
  if (nodes <= 1) return [];
  return framework === 'sglang'
    ? ['--nnodes', String(nodes), '--node-rank', '<rank>', '--dist-init-addr', '<head-ip>:5757']
    : ['--distributed-executor-backend', 'ray'];
}

function alternative(
  label: string,
  description: string,
  framework: Framework,
  plan: Plan,
  args: string[],
): SizingAlternative | undefined {
  const chosen = plan.chosen;
  if (!chosen) return undefined;
  return {
    label,
    description,
    framework,
    fits: plan.fits,
    layout: chosen.layout,
    framework_args: args,
    kv_capacity_tokens: chosen.kvCapacityTokens,
    max_context_tokens: Math.floor(chosen.maxContext),
  };
}

function describeGpus(
  layout: { gpus_per_replica: number; nodes_per_replica: number },
  gpusPerNode: number,
): string {
  if (layout.nodes_per_replica > 1) return `${layout.nodes_per_replica} nodes`;
  if (layout.gpus_per_replica === gpusPerNode) return 'one node';
  return `${layout.gpus_per_replica} GPU${layout.gpus_per_replica > 1 ? 's' : ''}`;
}

function buildAlternatives(
  model: SizedModel,
  request: PlanRequest,
  plan: Plan,
  contextGiven: boolean,
): SizingAlternative[] {
  const chosen = plan.chosen;
  const alternatives: SizingAlternative[] = [];
  if (!chosen) return alternatives;
  const gpus = chosen.layout.gpus_per_replica;
  const argsFor = (
    p: Plan,
    req: PlanRequest,
    arch: ModelArchitecture,
    extra: { onlineFp8?: boolean } = {},
  ) =>
    p.chosen
      ? buildFrameworkArgs(req.framework, p.chosen.layout, {
          context: contextArgument(p.chosen, arch, req, contextGiven),
          kvDtype: req.kvDtype,
          ...extra,
        })
      : [];

  if (request.kvDtype === 'auto') {
    const req = { ...request, kvDtype: 'fp8' as const };
    const fp8Kv = planLayout(model, req);
    if (fp8Kv.chosen && fp8Kv.fits) {
      const fewer = fp8Kv.chosen.layout.gpus_per_replica < gpus;
      const description = fewer
        ? `With an fp8 KV cache it fits in ${describeGpus(fp8Kv.chosen.layout, request.gpusPerNode)} instead of ${describeGpus(chosen.layout, request.gpusPerNode)} (KV values in one byte; a small accuracy cost).`
        : `An fp8 KV cache roughly doubles the KV capacity, to ${formatTokens(fp8Kv.chosen.kvCapacityTokens)} tokens (a small accuracy cost).`;
      alternatives.push(
        alternative('fp8 KV cache', description, request.framework, fp8Kv, argsFor(fp8Kv, req, model.arch))!,
      );
    }
  }

  const isSixteenBit = !model.arch.quantization || model.arch.quantization.unknown;
  if (isSixteenBit && request.gpu.hasFp8) {
    const arch: ModelArchitecture = {
      ...model.arch,
      quantization: parseQuantization({ quant_method: 'fp8' }),
    };
    const fp8Model: SizedModel = { arch, params: model.params, weightScale: model.weightScale };
    const fp8 = planLayout(fp8Model, request);
    if (fp8.chosen && fp8.fits && fp8.chosen.layout.gpus_per_replica < gpus) {
      alternatives.push(
        alternative(
          'FP8 weights',
          `Quantized to FP8 at load time (--quantization fp8) it fits ${describeGpus(fp8.chosen.layout, request.gpusPerNode)}: half the weight memory, usually a small accuracy cost; an official FP8 checkpoint is better when one exists.`,
          request.framework,
          fp8,
          argsFor(fp8, request, arch, { onlineFp8: true }),
        )!,
      );
    }
  }

  if (chosen.layout.replicas_per_node > 1) {
    const dp = chosen.layout.replicas_per_node;
    alternatives.push({
      label: 'one process per node',
      description: `Instead of ${dp} separate replicas on a node, one engine process with data parallelism ${dp} (one endpoint per node, the engine balances requests).`,
      framework: request.framework,
      fits: plan.fits,
      layout: {
        ...chosen.layout,
        gpus_per_replica: chosen.layout.gpus_per_replica * dp,
        replicas_per_node: 1,
      },
      framework_args: buildFrameworkArgs(request.framework, chosen.layout, {
        context: contextArgument(chosen, model.arch, request, contextGiven),
        kvDtype: request.kvDtype,
        dataParallel: dp,
      }),
      kv_capacity_tokens: chosen.kvCapacityTokens * dp,
      max_context_tokens: Math.floor(chosen.maxContext),
    });
  }

  const flipped = {
    ...request,
    objective: request.objective === 'latency' ? ('throughput' as const) : ('latency' as const),
  };
  const other = planLayout(model, flipped);
  if (other.chosen && other.fits && other.chosen.layout.gpus_per_replica !== gpus) {
    const description =
      flipped.objective === 'latency'
        ? `For lower latency per request: tp ${other.chosen.layout.tp} over ${describeGpus(other.chosen.layout, request.gpusPerNode)}, one replica per node.`
        : `For throughput: ${other.chosen.layout.replicas_per_node} replicas per node of ${other.chosen.layout.gpus_per_replica} GPU(s) each.`;
    alternatives.push(
      alternative(
        flipped.objective === 'latency' ? 'lower latency' : 'higher throughput',
        description,
        request.framework,
        other,
        argsFor(other, flipped, model.arch),
      )!,
    );
  }

  if (
    model.arch.moe &&
    chosen.layout.ep === 1 &&
    chosen.layout.nodes_per_replica > 1 &&
    request.framework === 'sglang'
  ) {
    const ep = chosen.layout.tp;
    if (model.arch.moe.numExperts % ep === 0) {
      alternatives.push({
        label: 'expert parallelism',
        description: `--ep-size ${ep} gives each GPU whole experts instead of slices of every expert: the same memory, usually more throughput for MoE across nodes.`,
        framework: request.framework,
        fits: plan.fits,
        layout: { ...chosen.layout, ep },
        framework_args: buildFrameworkArgs(
          request.framework,
          { ...chosen.layout, ep },
          {
            context: contextArgument(chosen, model.arch, request, contextGiven),
            kvDtype: request.kvDtype,
          },
        ),
        kv_capacity_tokens: chosen.kvCapacityTokens,
        max_context_tokens: Math.floor(chosen.maxContext),
      });
    }
  }

  const otherFramework: Framework = request.framework === 'sglang' ? 'vllm' : 'sglang';
  const otherRequest = { ...request, framework: otherFramework };
  const otherPlan = planLayout(model, otherRequest);
  if (otherPlan.chosen && otherPlan.fits && (!plan.fits || otherPlan.chosen.layout.gpus_per_replica < gpus)) {
    alternatives.push(
      alternative(
        otherFramework,
        `${otherFramework} fits it in ${describeGpus(otherPlan.chosen.layout, request.gpusPerNode)} (${otherFramework === 'vllm' ? 'tensor parallel in a node, pipeline parallel across nodes' : 'tensor parallel across all GPUs'}).`,
        otherFramework,
        otherPlan,
        argsFor(otherPlan, otherRequest, model.arch),
      )!,
    );
  }
  return alternatives;
}

const PART_NAMES: Record<string, string> = {
  attention: 'attention',
  linearAttention: 'linear attention',
  denseMlp: 'dense MLPs',
  sharedExperts: 'shared experts',
  routedExperts: 'routed experts',
};

function hardwareName(system: SystemProfile | undefined, gpu: GpuSpec, gpusPerNode: number): string {
  const node = `${gpusPerNode} × ${gpu.type.replace(/-(\d+)GB$/, ' $1 GiB')} per node`;
  return system ? `${system.name} (${node})` : node;
}

function explain(
  modelId: string,
  summary: ModelSummary,
  weightsTotal: number,
  request: PlanRequest,
  plan: Plan,
  hardware: string,
  kvPerTokenWhole: number,
): string {
  const chosen = plan.chosen!;
  const { layout, memory, kv } = chosen;
  const kind = summary.moe
    ? `a mixture-of-experts model (${summary.moe.experts} experts, ${summary.moe.experts_per_token} per token)`
    : 'a dense model';
  const attention = {
    mha: 'multi-head attention',
    gqa: `grouped-query attention (${summary.kv_heads} KV heads)`,
    mqa: 'multi-query attention',
    mla: `multi-head latent attention (latent rank ${summary.kv_lora_rank})`,
  }[summary.attention];
  const precision = summary.quantization
    ? `${summary.quantization.format} for the ${summary.quantization.quantized_parts.map((p) => PART_NAMES[p] ?? p).join(', ')}, ${summary.dtype} elsewhere`
    : summary.dtype;
  const active = summary.moe ? ` (${billions(summary.active_params)} active)` : '';
  const sentences = [
    `${modelId}: ${kind} with ${attention}, ${billions(summary.total_params)} parameters${active} in ${precision}, ${gib(weightsTotal)} of weights.`,
  ];
  const shape =
    layout.nodes_per_replica > 1
      ? request.framework === 'sglang'
        ? `tp ${layout.tp} across ${layout.nodes_per_replica} nodes`
        : `tp ${layout.tp} in each node and pp ${layout.pp} across ${layout.nodes_per_replica} nodes`
      : `tp ${layout.tp} on ${layout.gpus_per_replica} GPU${layout.gpus_per_replica > 1 ? 's' : ''}`;
  const ep = layout.ep > 1 ? `, expert parallel ${layout.ep}` : '';
  const packing = layout.replicas_per_node > 1 ? ` (${layout.replicas_per_node} replicas per node)` : '';
  const fraction =
    request.framework === 'sglang'
      ? `sglang keeps ${gib(memory.reservedBytes)} (mem-fraction-static ${memory.engineFraction})`
      : `vLLM keeps ${gib(memory.reservedBytes)} (gpu-memory-utilization ${memory.engineFraction}, activations, context)`;
  if (plan.fits) {
    sentences.push(
      `On ${hardware}, ${request.framework} fits it with ${shape}${ep}${packing}: ${gib(memory.weightsBytes)} of weights per GPU, ${fraction}, leaving ${gib(memory.kvPoolBytes)} per GPU for the KV cache.`,
    );
  } else if (chosen.doWeightsFit) {
    sentences.push(
      `On ${hardware}, ${request.framework} holds the weights with ${shape}${ep} (${gib(memory.weightsBytes)} per GPU) but the KV cache left (${gib(memory.kvPoolBytes)} per GPU) does not reach ${request.concurrency} requests of ${formatTokens(request.context)} tokens within ${request.maxNodes} nodes.`,
    );
  } else {
    sentences.push(
      `On ${hardware}, ${request.framework} cannot hold the weights within ${request.maxNodes} nodes: even ${shape} needs ${gib(memory.weightsBytes)} per GPU and ${fraction}.`,
    );
  }
  const perGpu = kv.perToken > 0 ? ` (${kib(kv.perToken)} on the fullest GPU)` : '';
  const extras: string[] = [];
  if (kv.perWindowToken > 0)
    extras.push(`sliding-window layers add up to ${kib(kv.perWindowToken * kv.window)} per request`);
  if (kv.perRequest > 0) extras.push(`linear-attention state adds ${kib(kv.perRequest)} per request`);
  if (chosen.doWeightsFit) {
    sentences.push(
      `A token of context costs ${kib(kvPerTokenWhole)} of KV cache${perGpu}${extras.length ? `; ${extras.join('; ')}` : ''}. One replica holds ${formatTokens(chosen.kvCapacityTokens)} tokens: ${chosen.maxConcurrency} requests of ${formatTokens(request.context)} tokens, or ${request.concurrency} requests of up to ${formatTokens(chosen.maxContext)} tokens.`,
    );
  }
  return sentences.join(' ');
}

function schedulerOf(system: SystemProfile | undefined, deps: SizingDeps): Scheduler | undefined {
  if (!system || !deps.schedulerFor) return undefined;
  try {
    return deps.schedulerFor(system);
  } catch (error) {
    if (error instanceof SmlError && error.code === 'NOT_CONFIGURED') return undefined;
    throw error;
  }
}

/**
 * Size a model: the smallest replica layout that fits with a useful KV cache, its engine arguments,
 * alternatives, warnings and an explanation. Throws SmlError (INVALID_ARGUMENT, UNKNOWN_SYSTEM,
 * NOT_FOUND, UNKNOWN_MODEL, OFFLINE, PERMISSION_DENIED) when the model or the hardware cannot be read.
 */
export async function sizeModel(
  rawInput: SizeModelInput | unknown,
  deps: SizingDeps = {},
): Promise<SizeModelResult> {
  const input = parseInput(rawInput);
  const { system, gpu, gpusPerNode } = resolveHardware(input, deps);
  const registryPath = deps.registryPath ?? system?.modelRegistry;
  const resolveCatalogModel =
    deps.resolveCatalogModel ?? catalogModelResolver(loadShippedCatalog().entries, registryPath);
  const scheduler = deps.scheduler ?? schedulerOf(system, deps);
  const files = await loadModelFiles(input.model, { ...deps, scheduler, registryPath, resolveCatalogModel });
  const arch = parseModelConfig(files.config, files.location);
  const params = estimateParameters(arch);
  const estimatedBytes = modelWeightBytes(arch, params).total;
  const warnings: string[] = [];

  let weightScale = 1;
  let weightsSource: ModelSummary['weights_source'] = 'architecture';
  if (input.parameter_count !== undefined && params.total > 0) {
    weightScale = input.parameter_count / params.total;
    weightsSource = 'parameter_count';
  } else if (files.indexTotalBytes !== undefined && estimatedBytes > 0) {
    // Checkpoint bytes as stored; fp32 checkpoints are served in 16 bits.
    const servedBytes =
      arch.dtype === 'float32' && !arch.quantization ? files.indexTotalBytes / 2 : files.indexTotalBytes;
    weightScale = servedBytes / estimatedBytes;
    weightsSource = 'safetensors_index';
    if (Math.abs(weightScale - 1) > 0.1) {
      warnings.push(
        `The safetensors index gives ${gib(servedBytes)} of weights, ${Math.round((weightScale - 1) * 100)} % off the architecture estimate (${gib(estimatedBytes)}): the index is used.`,
      );
    }
  } else if (params.isIncomplete) {
    warnings.push(
      `The parameter count is estimated from an incomplete config (${arch.missing.filter((m) => m !== 'max_position_embeddings').join(', ') || 'vision tower sizes'}): give parameter_count, or a model directory with model.safetensors.index.json, for exact weights.`,
    );
  }

  const catalogRecipe = files.catalog;
  const framework: Framework = input.framework ?? catalogRecipe?.framework ?? 'sglang';
  const modelMax = arch.maxPositionEmbeddings;
  let context = input.context_length ?? Math.min(modelMax ?? DEFAULT_CONTEXT, DEFAULT_CONTEXT);
  if (modelMax !== undefined && context > modelMax) {
    warnings.push(
      `context_length ${context} exceeds the model maximum (${modelMax} tokens): sized for ${modelMax}.`,
    );
    context = modelMax;
  }
  if (modelMax === undefined) {
    warnings.push(
      `The config gives no max_position_embeddings: sized for ${context} tokens; check the model card for its real limit.`,
    );
  }
  const isSpeculative =
    input.speculative_decoding ??
    (catalogRecipe?.framework === framework &&
      hasOption(toArgv(catalogRecipe.frameworkArgs ?? ''), '--speculative-algorithm'));
  const request: PlanRequest = {
    framework,
    gpu,
    gpusPerNode,
    context,
    concurrency: input.concurrency ?? DEFAULT_CONCURRENCY,
    objective: input.objective ?? 'throughput',
    kvDtype: input.kv_cache_dtype ?? 'auto',
    maxNodes: input.max_nodes ?? DEFAULT_MAX_NODES,
    isSpeculative,
  };
  const model: SizedModel = { arch, params, weightScale };
  const plan = planLayout(model, request);
  const chosen = plan.chosen;
  if (!chosen) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `No layout of ${input.model} passes the engines' divisibility rules: ${plan.rejections.slice(0, 3).join('; ')}.`,
      {
        hint: 'Check the config (heads, KV heads, expert sizes), or try the other framework.',
      },
    );
  }

  const isContextGiven = input.context_length !== undefined;
  const contextArg = contextArgument(chosen, arch, request, isContextGiven);
  const frameworkArgs = buildFrameworkArgs(framework, chosen.layout, {
    context: contextArg,
    kvDtype: request.kvDtype,
  });
  // One copy of the whole model's KV (tp = pp = 1): the figure people compare across models.
  const kvWhole = kvCost(arch, request.kvDtype, { tp: 1, pp: 1 }, context).perToken;

  warnings.push(...chosen.warnings);
  if (!plan.fits) {
    warnings.push(
      chosen.doWeightsFit
        ? `The target (${request.concurrency} requests of ${formatTokens(context)} tokens) does not fit within ${request.maxNodes} nodes; this layout holds ${chosen.maxConcurrency} such requests. Lower context_length or concurrency, use an fp8 KV cache, or raise max_nodes.`
        : `The weights do not fit within ${request.maxNodes} nodes (${gib(chosen.memory.weightsBytes)} per GPU on the largest legal layout). Raise max_nodes or use a quantized checkpoint.`,
    );
    const sample = plan.rejections.slice(0, 2);
    if (sample.length > 0) warnings.push(`Layouts ruled out by divisibility: ${sample.join('; ')}.`);
  }
  if (arch.quantization && !arch.quantization.unknown && arch.quantization.bits === 8 && !gpu.hasFp8) {
    warnings.push(
      `${gpu.type} has no FP8 tensor cores: the fp8 checkpoint runs as weight-only fp8 (vLLM Marlin kernels), slower, and may not load in sglang.`,
    );
  }
  if (gpu.isUnifiedMemory) {
    warnings.push(
      `${gpu.type} shares its ${gpu.memoryGiB} GiB with the CPU: host processes and the page cache use it too, so keep some headroom (e.g. a lower --mem-fraction-static / --gpu-memory-utilization).`,
    );
  }
  if (
    arch.missing.includes(
      'linear_num_key_heads/linear_num_value_heads/linear_key_head_dim/linear_value_head_dim',
    )
  ) {
    warnings.push(
      'Linear-attention sizes are missing from the config: their parameters are approximated and their per-request state is not counted.',
    );
  }
  if (chosen.layout.replicas_per_node > 1) {
    warnings.push(
      `${chosen.layout.replicas_per_node} replicas share each node: launch with gpus_per_replica ${chosen.layout.gpus_per_replica} (each replica gets its own GPUs and port).`,
    );
  }
  if (arch.isDtypeAssumed && !arch.quantization) {
    warnings.push('The config names no torch_dtype: the weights are taken as bfloat16.');
  }

  const summary = summarize(input.model, files, arch, params, weightsSource, input.parameter_count);
  const weightsTotal = estimatedBytes * weightScale;
  const hardware = hardwareName(system && !input.gpu ? system : undefined, gpu, gpusPerNode);
  const result: SizeModelResult = {
    model: summary,
    target: {
      system: system?.name ?? null,
      gpu: gpu.type,
      gpu_memory_gib: gpu.memoryGiB,
      gpus_per_node: gpusPerNode,
      framework,
      context_length: context,
      concurrency: request.concurrency,
      objective: request.objective,
      kv_cache_dtype: request.kvDtype,
    },
    fits: plan.fits,
    layout: chosen.layout,
    weights_bytes: Math.round(weightsTotal),
    weights_bytes_per_gpu: Math.round(chosen.memory.weightsBytes),
    kv_bytes_per_token: kvWhole,
    kv_bytes_per_token_per_gpu: chosen.kv.perToken,
    kv_bytes_per_request: Math.round(chosen.kv.perRequest + chosen.kv.window * chosen.kv.perWindowToken),
    kv_capacity_tokens: chosen.kvCapacityTokens,
    max_context_tokens: Math.floor(chosen.maxContext),
    max_concurrency: chosen.maxConcurrency,
    memory_per_gpu: {
      total_bytes: chosen.memory.totalBytes,
      engine_fraction: chosen.memory.engineFraction,
      weights_bytes: Math.round(chosen.memory.weightsBytes),
      reserved_bytes: Math.round(chosen.memory.reservedBytes),
      kv_pool_bytes: Math.round(chosen.memory.kvPoolBytes),
    },
    framework_args: frameworkArgs,
    launcher_adds: launcherArgs(framework, chosen.layout.nodes_per_replica),
    catalog_recipe: catalogRecipe?.framework
      ? {
          framework: catalogRecipe.framework,
          nodes_per_replica: catalogRecipe.nodesPerReplica ?? 1,
          framework_args: catalogRecipe.frameworkArgs ?? '',
        }
      : null,
    warnings: [...new Set(warnings)],
    explanation: explain(input.model, summary, weightsTotal, request, plan, hardware, kvWhole),
    alternatives: buildAlternatives(model, request, plan, isContextGiven),
  };
  return SizeModelResult.parse(result);
}
