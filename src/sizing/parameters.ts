import type { LayerKind, ModelArchitecture } from './architecture.js';
import type { QuantizedPart } from './quantization.js';

/**
 * Parameter counts from the architecture, layer by layer and part by part, so that the memory
 * model can apply quantization per part and split layers across tensor and pipeline ranks.
 * Norm weights are left out, and biases except those of Qwen2/gpt-oss attention and gpt-oss
 * experts: together they are far below 0.1 % of any model the sizer targets.
 */

/** How one part of a layer splits over tensor-parallel ranks. */
export interface LayerPart {
  part: QuantizedPart | 'router';
  /** Parameters divided across tensor-parallel ranks (heads, MLP columns, experts). */
  sharded: number;
  /** Parameters every tensor-parallel rank holds whole (MLA down-projections, routers). */
  replicated: number;
  /**
   * K/V projections (one entry per KV head): sharded while KV heads ≥ tp, otherwise each rank keeps
   * one whole head, as sglang and vLLM replicate KV heads when tp exceeds them.
   */
  perKvHead?: { params: number; heads: number };
}

export interface LayerParams {
  kind: LayerKind;
  isMoe: boolean;
  parts: LayerPart[];
  total: number;
  /** Parameters a token touches in this layer (all but the unrouted experts). */
  active: number;
}

export interface ParameterEstimate {
  layers: LayerParams[];
  embedding: number;
  lmHead: number;
  /** Multi-token-prediction layers (loaded for speculative decoding with the model's own draft head). */
  mtp: number;
  vision: number;
  total: number;
  active: number;
  /** Part totals, for the summary. */
  byPart: Record<QuantizedPart | 'router' | 'embedding' | 'lmHead' | 'mtp' | 'vision', number>;
  /** Set when facts were missing and the count is knowingly short (the reason is in architecture.notes). */
  isIncomplete: boolean;
}

function attentionParts(arch: ModelArchitecture, kind: LayerKind): LayerPart[] {
  const h = arch.hiddenSize;
  if (arch.mla) {
    const { kvLoraRank, qLoraRank, qkRopeHeadDim, qkNopeHeadDim, vHeadDim } = arch.mla;
    const qkHeadDim = qkNopeHeadDim + qkRopeHeadDim;
    const heads = arch.numHeads;
    // q: either a low-rank pair (q_a replicated, q_b sharded by head) or one projection sharded by head.
    const qReplicated = qLoraRank ? h * qLoraRank : 0;
    const qSharded = qLoraRank ? qLoraRank * heads * qkHeadDim : h * heads * qkHeadDim;
    // kv_a (to the latent and the shared rope key) is replicated; kv_b and o are sharded by head.
    const kvA = h * (kvLoraRank + qkRopeHeadDim);
    const kvB = kvLoraRank * heads * (qkNopeHeadDim + vHeadDim);
    const o = heads * vHeadDim * h;
    return [{ part: 'attention', sharded: qSharded + kvB + o, replicated: qReplicated + kvA }];
  }
  const isFullWithOwnShape = kind === 'full' && arch.fullAttentionShape !== undefined;
  const headDim = isFullWithOwnShape ? arch.fullAttentionShape!.headDim : arch.headDim;
  const kvHeads = isFullWithOwnShape ? arch.fullAttentionShape!.numKvHeads : arch.numKvHeads;
  const qo = 2 * h * arch.numHeads * headDim + (arch.hasAttentionBias ? arch.numHeads * headDim : 0);
  const kvPerHead = 2 * h * headDim + (arch.hasAttentionBias ? 2 * headDim : 0);
  return [
    { part: 'attention', sharded: qo, replicated: 0, perKvHead: { params: kvPerHead, heads: kvHeads } },
  ];
}

function linearAttentionParts(arch: ModelArchitecture): LayerPart[] {
  const la = arch.linearAttention;
  if (!la) {
    // Sizes unknown: counted like a full-attention layer (architecture.notes says so).
    return attentionParts(arch, 'full').map((p) => ({ ...p, part: 'linearAttention' }));
  }
  const h = arch.hiddenSize;
  const keyDim = la.numKeyHeads * la.keyHeadDim;
  const valueDim = la.numValueHeads * la.valueHeadDim;
  // Gated DeltaNet: in_proj_qkvz (q, k, v and the output gate z), in_proj_ba (β and α per value head),
  // a depthwise causal conv over q/k/v, and out_proj.
  const inProj = h * (2 * keyDim + 2 * valueDim) + h * 2 * la.numValueHeads;
  const conv = (2 * keyDim + valueDim) * la.convKernel;
  const out = valueDim * h;
  return [{ part: 'linearAttention', sharded: inProj + conv + out, replicated: 0 }];
}

function mlpMatrices(arch: ModelArchitecture): number {
  return arch.isGatedMlp ? 3 : 2;
}

function mlpParts(arch: ModelArchitecture, isMoe: boolean): { parts: LayerPart[]; inactive: number } {
  const h = arch.hiddenSize;
  const matrices = mlpMatrices(arch);
  const dense = (arch.intermediateSize ?? 0) * h * matrices;
  if (!isMoe || !arch.moe)
    return { parts: [{ part: 'denseMlp', sharded: dense, replicated: 0 }], inactive: 0 };
  const moe = arch.moe;
  const expertBias = arch.hasExpertBias ? (matrices - 1) * moe.expertIntermediateSize + h : 0;
  const perExpert = matrices * h * moe.expertIntermediateSize + expertBias;
  const routed = moe.numExperts * perExpert;
  const shared =
    moe.sharedExperts * perExpert +
    (moe.sharedIntermediateSize ? matrices * h * moe.sharedIntermediateSize + h : 0);
  const parts: LayerPart[] = [
    { part: 'routedExperts', sharded: routed, replicated: 0 },
    { part: 'router', sharded: 0, replicated: moe.numExperts * h },
  ];
  if (shared > 0) parts.push({ part: 'sharedExperts', sharded: shared, replicated: 0 });
  if (moe.hasParallelDenseMlp) parts.push({ part: 'denseMlp', sharded: dense, replicated: 0 });
  const inactive = Math.max(0, moe.numExperts - moe.expertsPerToken) * perExpert;
  return { parts, inactive };
}

function sumParts(parts: readonly LayerPart[]): number {
  return parts.reduce(
    (sum, p) => sum + p.sharded + p.replicated + (p.perKvHead ? p.perKvHead.params * p.perKvHead.heads : 0),
    0,
  );
}

function layerParams(arch: ModelArchitecture, index: number, kind: LayerKind): LayerParams {
  const isMoe = arch.moe?.isMoeLayer[index] ?? false;
  const attention = kind === 'linear' ? linearAttentionParts(arch) : attentionParts(arch, kind);
  const mlp = mlpParts(arch, isMoe);
  const parts = [...attention, ...mlp.parts];
  const total = sumParts(parts);
  return { kind, isMoe, parts, total, active: total - mlp.inactive };
}

/** Estimate the parameters of a model from its architecture. */
export function estimateParameters(arch: ModelArchitecture): ParameterEstimate {
  const layers = arch.layerKinds.map((kind, index) => layerParams(arch, index, kind));
  const embedding = (arch.vocabSize ?? 0) * arch.hiddenSize;
  const lmHead = arch.tiedEmbeddings ? 0 : embedding;
  // An MTP layer is one more decoder layer (MoE when the model is) plus the projection of
  // [embedding; hidden] back to hidden; it shares the embedding and the head.
  const lastLayer = layers.at(-1);
  const mtpLayer = lastLayer
    ? layerParams(arch, arch.numLayers - 1, 'full').total + 2 * arch.hiddenSize * arch.hiddenSize
    : 0;
  const mtp = arch.mtpLayers * mtpLayer;
  const vision = arch.vision?.params ?? 0;
  const layerTotal = layers.reduce((sum, layer) => sum + layer.total, 0);
  const layerActive = layers.reduce((sum, layer) => sum + layer.active, 0);
  const byPart = {
    attention: 0,
    linearAttention: 0,
    denseMlp: 0,
    sharedExperts: 0,
    routedExperts: 0,
    router: 0,
    embedding,
    lmHead,
    mtp,
    vision,
  };
  for (const layer of layers) {
    for (const part of layer.parts) byPart[part.part] += sumParts([part]);
  }
  const isIncomplete =
    arch.missing.some((m) => m !== 'max_position_embeddings') ||
    (arch.isMultimodal && arch.vision === undefined);
  return {
    layers,
    embedding,
    lmHead,
    mtp,
    vision,
    total: layerTotal + embedding + lmHead + mtp + vision,
    // Active: everything but the routed experts a token does not pick; embedding and head count, as
    // in the published "active parameter" figures.
    active: layerActive + embedding + lmHead + vision,
    byPart,
    isIncomplete,
  };
}
