import type { SystemProfile } from '../domain/system.js';
import type { GpuSpec } from './gpus.js';
import { GiB } from './memory.js';
import type { Plan, PlanRequest } from './planner.js';
import type { ModelSummary } from './schema.js';

/** The prose of a sizing: units as people speak of them, and the explanation of the chosen layout. */

const GIB_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

export function gib(bytes: number): string {
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

const PART_NAMES: Record<string, string> = {
  attention: 'attention',
  linearAttention: 'linear attention',
  denseMlp: 'dense MLPs',
  sharedExperts: 'shared experts',
  routedExperts: 'routed experts',
};

export function hardwareName(system: SystemProfile | undefined, gpu: GpuSpec, gpusPerNode: number): string {
  const node = `${gpusPerNode} × ${gpu.type.replace(/-(\d+)GB$/, ' $1 GiB')} per node`;
  return system ? `${system.name} (${node})` : node;
}

export function explain(
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
