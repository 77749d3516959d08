import type { Framework } from '../domain/framework.js';
import type { ModelArchitecture } from './architecture.js';
import type { GpuSpec } from './gpus.js';
import type { LayerPart, ParameterEstimate } from './parameters.js';
import type { QuantizedPart } from './quantization.js';

/**
 * The memory model: weight bytes per GPU for a parallel layout, KV-cache bytes per token, and what
 * each engine keeps for itself. Every constant says where it comes from; the engine figures mirror
 * the engines' own start-up arithmetic so that "fits" here means "starts" there.
 */

export type KvCacheDtype = 'auto' | 'fp8';

export const GiB = 2 ** 30;

/** Unquantized weights are served in 16 bits (bf16/fp16); fp32 checkpoints too, as both engines cast them. */
const UNQUANTIZED_BYTES = 2;
/** KV cache bytes per element: the model's 16-bit dtype, or one byte with an fp8 KV cache (per-tensor scales). */
const KV_BYTES: Record<KvCacheDtype, number> = { auto: 2, fp8: 1 };
/**
 * Linear-attention recurrent state is counted in fp32 (4 bytes): sglang keeps the Gated DeltaNet state
 * in fp32 by default; an engine keeping it in 16 bits needs less, so this is an upper bound.
 */
const LINEAR_STATE_BYTES = 4;
/** Linear-attention convolution state: the last (kernel − 1) inputs in the model dtype. */
const LINEAR_CONV_BYTES = 2;

/**
 * CUDA context, cuBLAS workspaces and NCCL communicator buffers: created before the engines measure
 * free memory, so neither engine's fraction covers them. About 0.5–1 GiB per GPU on Hopper; 1 GiB kept.
 */
export const RUNTIME_CONTEXT_BYTES = 1 * GiB;

/** vLLM `--gpu-memory-utilization` default: the share of GPU memory vLLM plans weights, activations and KV into. */
export const VLLM_GPU_MEMORY_UTILIZATION = 0.9;
/**
 * Hidden-sized activation buffers alive at the peak of vLLM's profiling forward pass (residual,
 * normed input, attention input/output, q/k/v, all-reduce scratch): 8 per token is a rounded upper bound.
 */
const VLLM_HIDDEN_BUFFERS_PER_TOKEN = 8;
/** vLLM's profile run samples from `max_num_seqs` rows of fp32 logits, with one working copy. */
const VLLM_LOGIT_COPIES = 2;

/** How a layer is spread: tp ranks per stage, pp stages; ep > 1 splits whole experts over the tp ranks. */
export interface ParallelLayout {
  tp: number;
  pp: number;
  ep: number;
}

/** Bytes per weight of one part, given the checkpoint's quantization. */
export function bytesPerWeight(arch: ModelArchitecture, part: QuantizedPart | 'router'): number {
  const quant = arch.quantization;
  if (!quant || quant.unknown || part === 'router') return UNQUANTIZED_BYTES;
  return quant.parts[part] ? quant.bytesPerWeight : UNQUANTIZED_BYTES;
}

function partBytesPerGpu(arch: ModelArchitecture, part: LayerPart, tp: number): number {
  const perKv = part.perKvHead
    ? part.perKvHead.params * (part.perKvHead.heads >= tp ? part.perKvHead.heads / tp : 1)
    : 0;
  return (part.sharded / tp + part.replicated + perKv) * bytesPerWeight(arch, part.part);
}

function partBytes(arch: ModelArchitecture, part: LayerPart): number {
  return partBytesPerGpu(arch, part, 1);
}

/** Layers per pipeline stage: an even split, the first stages taking one extra when it does not divide. */
export function splitLayers(numLayers: number, pp: number): number[] {
  const base = Math.floor(numLayers / pp);
  const extra = numLayers % pp;
  return Array.from({ length: pp }, (_, i) => base + (i < extra ? 1 : 0));
}

export interface WeightBytes {
  /** Bytes of the whole model as served (quantized parts at their packed size, the rest in 16 bits). */
  total: number;
  /** The same split by part. */
  byPart: Record<string, number>;
}

/** Weight bytes of the whole model as the engines hold them. */
export function modelWeightBytes(arch: ModelArchitecture, params: ParameterEstimate): WeightBytes {
  const byPart: Record<string, number> = {};
  for (const layer of params.layers) {
    for (const part of layer.parts) byPart[part.part] = (byPart[part.part] ?? 0) + partBytes(arch, part);
  }
  byPart.embedding = params.embedding * UNQUANTIZED_BYTES;
  byPart.lmHead = params.lmHead * UNQUANTIZED_BYTES;
  byPart.vision = params.vision * UNQUANTIZED_BYTES;
  // MTP layers are quantized like the decoder layers they copy.
  byPart.mtp =
    params.layers.length > 0 ? params.mtp * (mtpBytesPerParam(arch, params) || UNQUANTIZED_BYTES) : 0;
  const total = Object.values(byPart).reduce((a, b) => a + b, 0);
  return { total, byPart };
}

function mtpBytesPerParam(arch: ModelArchitecture, params: ParameterEstimate): number {
  const last = params.layers.at(-1);
  if (!last || last.total === 0) return UNQUANTIZED_BYTES;
  return last.parts.reduce((sum, part) => sum + partBytes(arch, part), 0) / last.total;
}

/**
 * Weight bytes on the fullest GPU of a layout. Pipeline stage 0 also holds the embedding (and the
 * vision tower, replicated); the last stage holds the LM head (its own copy when tied and pp > 1) and
 * the MTP layers. `scale` stretches the estimate to exact checkpoint bytes when an index gives them.
 */
export function weightBytesPerGpu(
  arch: ModelArchitecture,
  params: ParameterEstimate,
  layout: ParallelLayout,
  scale = 1,
): number {
  const { tp, pp } = layout;
  const stages = splitLayers(params.layers.length, pp);
  let first = 0;
  let worst = 0;
  for (let stage = 0; stage < pp; stage++) {
    const layers = params.layers.slice(first, first + stages[stage]!);
    first += stages[stage]!;
    let bytes = layers.reduce(
      (sum, layer) => sum + layer.parts.reduce((s, part) => s + partBytesPerGpu(arch, part, tp), 0),
      0,
    );
    if (stage === 0) bytes += (params.embedding * UNQUANTIZED_BYTES) / tp + params.vision * UNQUANTIZED_BYTES;
    if (stage === pp - 1) {
      const head = arch.tiedEmbeddings && pp > 1 ? params.embedding : params.lmHead;
      bytes += (head * UNQUANTIZED_BYTES) / tp;
      bytes += (params.mtp * mtpBytesPerParam(arch, params)) / tp;
    }
    worst = Math.max(worst, bytes);
  }
  return worst * scale;
}

/** KV heads one tensor-parallel rank stores: its share, or one whole head when tp exceeds the KV heads. */
export function kvHeadsPerRank(kvHeads: number, tp: number): number {
  return kvHeads >= tp ? kvHeads / tp : 1;
}

export interface KvCost {
  /** Bytes one token of context adds in the full-attention layers (grows with the context). */
  perToken: number;
  /** Bytes one token adds in sliding-window layers, up to `window` tokens per request. */
  perWindowToken: number;
  window: number;
  /** Constant bytes per request: the linear-attention state (conv + recurrent). */
  perRequest: number;
}

/**
 * KV-cache cost of the fullest GPU of a layout (tp = pp = 1 gives the whole model's cost).
 * MHA/GQA/MQA: K and V for each KV head the rank stores. MLA: the compressed latent plus the shared
 * rope key, which every tensor-parallel rank keeps whole. Sliding layers: capped at the window, as
 * vLLM's hybrid KV-cache manager and sglang's SWA pool free the tokens that slid out of it.
 * Linear-attention layers: no per-token cache, a fixed state per request.
 */
export function kvCost(
  arch: ModelArchitecture,
  kvDtype: KvCacheDtype,
  layout: { tp: number; pp: number },
  referenceContext = 32768,
): KvCost {
  const { tp, pp } = layout;
  const elementBytes = KV_BYTES[kvDtype];
  const stages = splitLayers(arch.numLayers, pp);
  let first = 0;
  let worst: KvCost = { perToken: 0, perWindowToken: 0, window: arch.slidingWindow ?? 0, perRequest: 0 };
  let worstBytes = -1;
  for (const count of stages) {
    const kinds = arch.layerKinds.slice(first, first + count);
    first += count;
    const cost: KvCost = { perToken: 0, perWindowToken: 0, window: arch.slidingWindow ?? 0, perRequest: 0 };
    for (const kind of kinds) {
      if (kind === 'linear') {
        cost.perRequest += linearStateBytes(arch, tp);
        continue;
      }
      const bytes = attentionKvBytes(arch, kind, tp, elementBytes);
      if (kind === 'sliding') cost.perWindowToken += bytes;
      else cost.perToken += bytes;
    }
    // The stage that needs the most memory for one request of the reference context decides.
    const bytes = kvBytesFor(cost, referenceContext, 1);
    if (bytes > worstBytes) {
      worst = cost;
      worstBytes = bytes;
    }
  }
  return worst;
}

function attentionKvBytes(
  arch: ModelArchitecture,
  kind: 'full' | 'sliding',
  tp: number,
  elementBytes: number,
): number {
  if (arch.mla) return (arch.mla.kvLoraRank + arch.mla.qkRopeHeadDim) * elementBytes;
  const shape =
    kind === 'full' && arch.fullAttentionShape
      ? arch.fullAttentionShape
      : { headDim: arch.headDim, numKvHeads: arch.numKvHeads };
  return 2 * kvHeadsPerRank(shape.numKvHeads, tp) * shape.headDim * elementBytes;
}

function linearStateBytes(arch: ModelArchitecture, tp: number): number {
  const la = arch.linearAttention;
  if (!la) return 0;
  const recurrent = (la.numValueHeads / tp) * la.keyHeadDim * la.valueHeadDim * LINEAR_STATE_BYTES;
  const convChannels = (2 * la.numKeyHeads * la.keyHeadDim + la.numValueHeads * la.valueHeadDim) / tp;
  return recurrent + (la.convKernel - 1) * convChannels * LINEAR_CONV_BYTES;
}

/** KV bytes `requests` requests of `context` tokens need. */
export function kvBytesFor(cost: KvCost, context: number, requests: number): number {
  return (
    requests *
    (context * cost.perToken + Math.min(context, cost.window) * cost.perWindowToken + cost.perRequest)
  );
}

/** The longest context each of `requests` requests can have in `poolBytes` (Infinity when nothing grows). */
export function maxContextFor(cost: KvCost, poolBytes: number, requests: number): number {
  const budget = poolBytes / requests - cost.perRequest;
  if (budget <= 0) return 0;
  const { perToken, perWindowToken, window } = cost;
  if (perWindowToken > 0 && window > 0) {
    const windowFull = window * (perToken + perWindowToken);
    if (budget < windowFull) return Math.floor(budget / (perToken + perWindowToken));
    return perToken > 0 ? Math.floor(window + (budget - windowFull) / perToken) : Infinity;
  }
  return perToken > 0 ? Math.floor(budget / perToken) : Infinity;
}

/**
 * sglang's default `--mem-fraction-static`, as sglang's ServerArgs computes it (v0.5 series,
 * `_handle_gpu_memory_settings`): reserve, in MiB, 512 for attention-backend metadata, 1.5 per token
 * of the chunked-prefill size for activations, 2 per CUDA-graph batch size, 1024 per 8 ranks of tp×pp,
 * at least 10 GiB on GPUs over 60 GiB, and 2 GiB more for EAGLE-style speculative decoding; the
 * fraction is what is left. Chunk size and graph batch size grow with the GPU memory tier.
 */
export function sglangMemFractionStatic(gpu: GpuSpec, tp: number, pp: number, isSpeculative = false): number {
  const gpuMiB = gpu.memoryGiB * 1024;
  const { chunkedPrefill, graphBatch } = sglangMemoryTier(gpuMiB, tp);
  let reserved = 512 + Math.max(chunkedPrefill, 2048) * 1.5 + graphBatch * 2 + ((tp * pp) / 8) * 1024;
  if (gpuMiB > 60 * 1024) reserved = Math.max(reserved, 10 * 1024);
  if (isSpeculative) reserved += 2 * 1024;
  return Math.round(((gpuMiB - reserved) / gpuMiB) * 1000) / 1000;
}

/** sglang's defaults for `--chunked-prefill-size` and `--cuda-graph-max-bs` by GPU memory (MiB) and tp. */
function sglangMemoryTier(gpuMiB: number, tp: number): { chunkedPrefill: number; graphBatch: number } {
  if (gpuMiB < 20 * 1024) return { chunkedPrefill: 2048, graphBatch: 8 };
  if (gpuMiB < 35 * 1024) return { chunkedPrefill: 2048, graphBatch: tp < 4 ? 16 : 80 };
  if (gpuMiB < 60 * 1024) return { chunkedPrefill: 4096, graphBatch: tp < 4 ? 32 : 160 };
  if (gpuMiB < 160 * 1024) return { chunkedPrefill: 8192, graphBatch: tp < 4 ? 256 : 512 };
  return { chunkedPrefill: 16384, graphBatch: 512 };
}

/**
 * vLLM's default `--max-num-batched-tokens` and `--max-num-seqs` for the OpenAI server (v1 engine):
 * 8192 tokens and 1024 sequences on GPUs of at least 70 GiB other than A100, else 2048 and 256.
 */
export function vllmBatchDefaults(gpu: GpuSpec): { maxBatchedTokens: number; maxSeqs: number } {
  const isLarge = gpu.memoryGiB >= 70 && !gpu.type.toUpperCase().startsWith('A100');
  return isLarge ? { maxBatchedTokens: 8192, maxSeqs: 1024 } : { maxBatchedTokens: 2048, maxSeqs: 256 };
}

/**
 * vLLM's peak activation during its profiling pass on one GPU: hidden-sized buffers and the MLP's
 * gate/up output for a full batch of tokens, plus fp32 logits for a full batch of sequences.
 * CUDA graphs are captured after the KV cache is sized and come out of the 10 % vLLM leaves free.
 */
export function vllmActivationBytes(arch: ModelArchitecture, gpu: GpuSpec, tp: number): number {
  const { maxBatchedTokens, maxSeqs } = vllmBatchDefaults(gpu);
  const mlpWidth = arch.moe
    ? Math.max(arch.moe.expertsPerToken * arch.moe.expertIntermediateSize, arch.intermediateSize ?? 0)
    : (arch.intermediateSize ?? 4 * arch.hiddenSize);
  const perToken =
    (VLLM_HIDDEN_BUFFERS_PER_TOKEN * arch.hiddenSize + (2 * mlpWidth) / tp) * UNQUANTIZED_BYTES;
  const logits = maxSeqs * (arch.vocabSize ?? 0) * 4 * VLLM_LOGIT_COPIES;
  return maxBatchedTokens * perToken + logits;
}

export interface GpuMemoryPlan {
  totalBytes: number;
  /** sglang mem-fraction-static or vLLM gpu-memory-utilization. */
  engineFraction: number;
  weightsBytes: number;
  /** Activations, CUDA graphs, runtime context: what the engine keeps besides weights and KV. */
  reservedBytes: number;
  /** What is left for the KV cache (negative when the weights do not fit). */
  kvPoolBytes: number;
}

/** The memory of the fullest GPU of a replica under an engine's default reservations. */
export function planGpuMemory(
  framework: Framework,
  gpu: GpuSpec,
  arch: ModelArchitecture,
  weightsBytes: number,
  layout: ParallelLayout,
  options: { isSpeculative?: boolean } = {},
): GpuMemoryPlan {
  const totalBytes = gpu.memoryGiB * GiB;
  let engineFraction: number;
  let reservedBytes: number;
  if (framework === 'sglang') {
    // KV pool = fraction × total − weights − context: sglang sizes the pool from the memory free after
    // loading the weights, minus total × (1 − fraction).
    engineFraction = sglangMemFractionStatic(gpu, layout.tp, layout.pp, options.isSpeculative);
    reservedBytes = totalBytes * (1 - engineFraction) + RUNTIME_CONTEXT_BYTES;
  } else {
    // KV = utilization × total − weights − profiled activation peak − context.
    engineFraction = VLLM_GPU_MEMORY_UTILIZATION;
    reservedBytes =
      totalBytes * (1 - engineFraction) + vllmActivationBytes(arch, gpu, layout.tp) + RUNTIME_CONTEXT_BYTES;
  }
  return {
    totalBytes,
    engineFraction,
    weightsBytes,
    reservedBytes,
    kvPoolBytes: totalBytes - reservedBytes - weightsBytes,
  };
}
