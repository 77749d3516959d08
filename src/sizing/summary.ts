import type { ModelArchitecture } from './architecture.js';
import type { ParameterEstimate } from './parameters.js';
import type { ModelSummary } from './schema.js';
import type { ModelFiles } from './source.js';

/** What a sizing says of the model itself: its architecture, parameters and precision as read from its config. */

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

export function summarize(
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
    notes:
      files.origin === 'catalog'
        ? [
            "Read from the sourced facts sml-mcp ships for this catalog model (the cluster's model registry and the Hub were not needed or not reachable).",
            ...arch.notes,
          ]
        : arch.notes,
  };
}
