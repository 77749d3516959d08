import type { CatalogEntry } from '../catalog/catalog.js';
import { loadShippedCatalog } from '../catalog/catalog.js';
import type { Framework } from '../domain/framework.js';
import { hasOption, toArgv } from '../domain/framework-args.js';
import { BUILT_IN_SYSTEMS, isNodeSharing, type SystemProfile } from '../domain/system.js';
import { SmlError } from '../errors.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { buildAlternatives } from './alternatives.js';
import { type ModelArchitecture, parseModelConfig } from './architecture.js';
import { buildFrameworkArgs, contextArgument, launcherArgs } from './engine-args.js';
import { explain, formatTokens, gib, hardwareName } from './explain.js';
import { findGpu, type GpuSpec, gpuFromProfile } from './gpus.js';
import { kvCost, modelWeightBytes } from './memory.js';
import { estimateParameters, type ParameterEstimate } from './parameters.js';
import { type PlanRequest, planLayout, type SizedModel } from './planner.js';
import {
  type ModelSummary,
  type SizeModelInput,
  SizeModelInput as SizeModelInputSchema,
  SizeModelResult,
} from './schema.js';
import { type CatalogModelRef, loadModelFiles, type ModelFiles, type ModelSourceDeps } from './source.js';
import { summarize } from './summary.js';

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
 * How the weights compare with the architecture estimate: scaled to the given parameter count, or
 * to the checkpoint's safetensors index when there is one. Warnings go to `warnings`.
 */
function scaleWeights(
  input: SizeModelInput,
  files: ModelFiles,
  arch: ModelArchitecture,
  params: ParameterEstimate,
  estimatedBytes: number,
  warnings: string[],
): { weightScale: number; weightsSource: ModelSummary['weights_source'] } {
  if (input.parameter_count !== undefined && params.total > 0)
    return { weightScale: input.parameter_count / params.total, weightsSource: 'parameter_count' };
  if (files.indexTotalBytes !== undefined && estimatedBytes > 0) {
    // Checkpoint bytes as stored; fp32 checkpoints are served in 16 bits.
    const servedBytes =
      arch.dtype === 'float32' && !arch.quantization ? files.indexTotalBytes / 2 : files.indexTotalBytes;
    const weightScale = servedBytes / estimatedBytes;
    if (Math.abs(weightScale - 1) > 0.1) {
      warnings.push(
        `The safetensors index gives ${gib(servedBytes)} of weights, ${Math.round((weightScale - 1) * 100)} % off the architecture estimate (${gib(estimatedBytes)}): the index is used.`,
      );
    }
    return { weightScale, weightsSource: 'safetensors_index' };
  }
  if (params.isIncomplete) {
    warnings.push(
      `The parameter count is estimated from an incomplete config (${arch.missing.filter((m) => m !== 'max_position_embeddings').join(', ') || 'vision tower sizes'}): give parameter_count, or a model directory with model.safetensors.index.json, for exact weights.`,
    );
  }
  return { weightScale: 1, weightsSource: 'architecture' };
}

/** The context to size for: the one asked for, at most the model maximum; by default the maximum up to DEFAULT_CONTEXT. */
function targetContext(input: SizeModelInput, arch: ModelArchitecture, warnings: string[]): number {
  const modelMax = arch.maxPositionEmbeddings;
  const context = input.context_length ?? Math.min(modelMax ?? DEFAULT_CONTEXT, DEFAULT_CONTEXT);
  if (modelMax === undefined) {
    warnings.push(
      `The config gives no max_position_embeddings: sized for ${context} tokens; check the model card for its real limit.`,
    );
    return context;
  }
  if (context > modelMax) {
    warnings.push(
      `context_length ${context} exceeds the model maximum (${modelMax} tokens): sized for ${modelMax}.`,
    );
    return modelMax;
  }
  return context;
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
  const { weightScale, weightsSource } = scaleWeights(input, files, arch, params, estimatedBytes, warnings);
  const catalogRecipe = files.catalog;
  const framework: Framework = input.framework ?? catalogRecipe?.framework ?? 'sglang';
  const context = targetContext(input, arch, warnings);
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

  warnings.push(...layoutWarnings(plan, chosen, request, arch, system));

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

/** What a person should know about the chosen layout: limits, hardware caveats, node sharing. */
function layoutWarnings(
  plan: ReturnType<typeof planLayout>,
  chosen: NonNullable<ReturnType<typeof planLayout>['chosen']>,
  request: PlanRequest,
  arch: SizedModel['arch'],
  system: SystemProfile | undefined,
): string[] {
  const gpu = request.gpu;
  const warnings = [...chosen.warnings];
  if (!plan.fits) {
    warnings.push(
      chosen.doWeightsFit
        ? `The target (${request.concurrency} requests of ${formatTokens(request.context)} tokens) does not fit within ${request.maxNodes} nodes; this layout holds ${chosen.maxConcurrency} such requests. Lower context_length or concurrency, use an fp8 KV cache, or raise max_nodes.`
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
    // What one replica costs depends on whether the system lets jobs share a node.
    if (system) {
      warnings.push(
        isNodeSharing(system)
          ? `${system.name} shares nodes between jobs: a deployment of ${chosen.layout.gpus_per_replica} GPU(s) per replica takes only its GPUs, so capacity counts in GPUs (${chosen.layout.replicas_per_node} such replicas per node).`
          : `${system.name} allocates whole nodes: every job takes at least one node, so pack ${chosen.layout.replicas_per_node} replicas into one launch (replicas ${chosen.layout.replicas_per_node}) rather than launching them one by one.`,
      );
    }
  }
  if (arch.isDtypeAssumed && !arch.quantization) {
    warnings.push('The config names no torch_dtype: the weights are taken as bfloat16.');
  }
  return warnings;
}
