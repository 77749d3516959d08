import { SmlError } from '../errors.js';
import { parseQuantization, type WeightQuantization } from './quantization.js';

/**
 * The architecture facts the sizer needs, read from a Hugging Face `config.json`. Every family
 * names its fields differently (n_routed_experts, num_local_experts, num_experts…); this module
 * is the one place that knows the spellings. Facts a config does not give are listed in `missing`
 * and `notes` rather than guessed.
 */

export type AttentionKind = 'mha' | 'gqa' | 'mqa' | 'mla';
export type LayerKind = 'full' | 'sliding' | 'linear';

export interface MlaShape {
  kvLoraRank: number;
  qLoraRank?: number;
  qkRopeHeadDim: number;
  qkNopeHeadDim: number;
  vHeadDim: number;
}

export interface LinearAttentionShape {
  numKeyHeads: number;
  numValueHeads: number;
  keyHeadDim: number;
  valueHeadDim: number;
  convKernel: number;
}

export interface MoeShape {
  numExperts: number;
  expertsPerToken: number;
  /** Intermediate size of one routed expert. */
  expertIntermediateSize: number;
  /** Number of always-active shared experts (DeepSeek style, each of the expert size). */
  sharedExperts: number;
  /** Size of the single shared expert (Qwen-MoE style `shared_expert_intermediate_size`). */
  sharedIntermediateSize?: number;
  /** Per layer: true when the layer's MLP is the expert block. */
  isMoeLayer: boolean[];
  /** The MoE block runs beside a dense MLP of `intermediate_size` in every layer (Gemma 4). */
  hasParallelDenseMlp: boolean;
}

export interface VisionShape {
  params: number;
  description: string;
}

export interface ModelArchitecture {
  modelType: string;
  textModelType?: string;
  architectures: string[];
  isMultimodal: boolean;
  numLayers: number;
  hiddenSize: number;
  vocabSize?: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  attentionKind: AttentionKind;
  mla?: MlaShape;
  /** One entry per decoder layer. */
  layerKinds: LayerKind[];
  slidingWindow?: number;
  /** Full-attention layers with their own KV shape (Gemma 4 `global_head_dim`, `num_global_key_value_heads`). */
  fullAttentionShape?: { headDim: number; numKvHeads: number };
  linearAttention?: LinearAttentionShape;
  /** Dense MLP size (`intermediate_size`), when the model has dense MLPs. */
  intermediateSize?: number;
  isGatedMlp: boolean;
  hasAttentionBias: boolean;
  /** Experts carry biases (gpt-oss: gate_up and down biases per expert). */
  hasExpertBias: boolean;
  moe?: MoeShape;
  /** Multi-token-prediction layers shipped with the checkpoint (`num_nextn_predict_layers`). */
  mtpLayers: number;
  tiedEmbeddings: boolean;
  maxPositionEmbeddings?: number;
  /** Checkpoint dtype of unquantized tensors. */
  dtype: string;
  isDtypeAssumed: boolean;
  quantization?: WeightQuantization;
  vision?: VisionShape;
  /** DeepSeek sparse attention (GLM-5, DeepSeek V3.2): a lightning indexer keeps its own small key cache. */
  hasSparseAttentionIndexer: boolean;
  /** Facts the config lacks that a complete estimate needs. */
  missing: string[];
  notes: string[];
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

/** No fact of a real config comes near this (rope_theta is the largest, ~1e8); beyond it estimates overflow. */
const MAX_CONFIG_NUMBER = 1e12;

function firstNumber(config: Json, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const value = config[key];
    if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_CONFIG_NUMBER)
      return value;
  }
  return undefined;
}

function firstString(config: Json, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = config[key];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  return undefined;
}

/** Families whose MLP is up/down only (no gate): their MLP holds 2 matrices instead of 3. */
const UNGATED_MLP_TYPES = new Set([
  'apertus',
  'gpt2',
  'gpt_bigcode',
  'gpt_neox',
  'gptj',
  'opt',
  'bloom',
  'falcon',
  'starcoder2',
  'phi',
  'mpt',
]);

/** Families that tie the LM head to the embeddings when the config does not say (their transformers default). */
function tiesEmbeddingsByDefault(modelType: string): boolean {
  return modelType.startsWith('gemma') || modelType.startsWith('paligemma');
}

function readLayerKinds(config: Json, numLayers: number, notes: string[]): LayerKind[] {
  const declared = config.layer_types;
  if (Array.isArray(declared) && declared.length > 0) {
    const kinds = declared.slice(0, numLayers).map((value): LayerKind => {
      const text = String(value).toLowerCase();
      if (text.includes('linear') || text.includes('mamba') || text.includes('deltanet')) return 'linear';
      if (text.includes('sliding') || text.includes('local') || text.includes('chunked')) return 'sliding';
      return 'full';
    });
    if (kinds.length < numLayers) {
      notes.push(
        `layer_types lists ${declared.length} layers for ${numLayers}; the rest are taken as full attention.`,
      );
      while (kinds.length < numLayers) kinds.push('full');
    }
    return kinds;
  }
  const window = firstNumber(config, ['sliding_window']);
  const interval = firstNumber(config, ['full_attention_interval']);
  if (interval && interval > 0) {
    // Qwen3-Next style without layer_types: every interval-th layer is full attention, the others linear.
    return Array.from({ length: numLayers }, (_, i) => ((i + 1) % interval === 0 ? 'full' : 'linear'));
  }
  const pattern = firstNumber(config, ['sliding_window_pattern', 'sliding_window_layers_pattern']);
  if (window && pattern && pattern > 0) {
    // Gemma 3 style: every pattern-th layer is global, the others local.
    return Array.from({ length: numLayers }, (_, i) => ((i + 1) % pattern === 0 ? 'full' : 'sliding'));
  }
  const modelType = String(config.model_type ?? '');
  if (window && config.use_sliding_window === true) {
    // Qwen2 style: layers from max_window_layers on use the window.
    const fromLayer = firstNumber(config, ['max_window_layers']) ?? 0;
    return Array.from({ length: numLayers }, (_, i) => (i >= fromLayer ? 'sliding' : 'full'));
  }
  if (window && (modelType === 'mistral' || modelType === 'mixtral') && config.use_sliding_window !== false) {
    // Mistral/Mixtral apply `sliding_window` (when not null) to every layer.
    return Array.from({ length: numLayers }, () => 'sliding');
  }
  return Array.from({ length: numLayers }, () => 'full');
}

function readMoe(
  config: Json,
  numLayers: number,
  modelType: string,
  missing: string[],
): MoeShape | undefined {
  const numExperts = firstNumber(config, [
    'n_routed_experts',
    'num_local_experts',
    'num_experts',
    'moe_num_experts',
  ]);
  if (!numExperts || numExperts <= 1) return undefined;
  const expertsPerToken = firstNumber(config, [
    'num_experts_per_tok',
    'experts_per_token',
    'moe_top_k',
    'top_k_experts',
    'moe_k',
  ]);
  const moeIntermediate = firstNumber(config, ['moe_intermediate_size', 'expert_intermediate_size']);
  const intermediate = firstNumber(config, ['intermediate_size', 'ffn_dim']);
  const expertIntermediateSize = moeIntermediate ?? intermediate;
  if (!expertIntermediateSize) missing.push('moe_intermediate_size');
  if (!expertsPerToken) missing.push('num_experts_per_tok');
  const sharedExperts =
    firstNumber(config, ['n_shared_experts', 'num_shared_experts', 'moe_num_shared_experts']) ?? 0;
  const sharedIntermediateSize = firstNumber(config, ['shared_expert_intermediate_size']);
  if (sharedExperts === 0 && sharedIntermediateSize === undefined && /^qwen3_(next|5_moe)/.test(modelType)) {
    missing.push('shared_expert_intermediate_size');
  }
  const firstDense = firstNumber(config, ['first_k_dense_replace', 'first_k_dense']) ?? 0;
  const step = firstNumber(config, ['decoder_sparse_step', 'moe_layer_freq']) ?? 1;
  const mlpOnly = new Set(Array.isArray(config.mlp_only_layers) ? (config.mlp_only_layers as number[]) : []);
  const isMoeLayer = Array.from(
    { length: numLayers },
    (_, i) => i >= firstDense && !mlpOnly.has(i) && (step <= 1 || (i + 1) % step === 0),
  );
  return {
    numExperts,
    expertsPerToken: expertsPerToken ?? 0,
    expertIntermediateSize: expertIntermediateSize ?? 0,
    sharedExperts,
    sharedIntermediateSize,
    isMoeLayer,
    hasParallelDenseMlp:
      modelType.startsWith('gemma4') && moeIntermediate !== undefined && intermediate !== undefined,
  };
}

function readVision(top: Json, notes: string[]): VisionShape | undefined {
  const vision = asObject(top.vision_config) ?? asObject(top.vision_tower_config);
  if (!vision) return undefined;
  const hidden = firstNumber(vision, ['hidden_size', 'embed_dim', 'width']);
  const inter = firstNumber(vision, ['intermediate_size', 'mlp_dim']);
  const layers = firstNumber(vision, ['num_hidden_layers', 'depth', 'num_layers']);
  if (!hidden || !inter || !layers) {
    notes.push('vision_config lacks hidden/intermediate/layer sizes: the vision tower is not counted.');
    return undefined;
  }
  // A plain ViT block: q, k, v, o projections (4·h²) and a two-matrix MLP (2·h·i).
  const params = layers * (4 * hidden * hidden + 2 * hidden * inter);
  return { params, description: `${layers} × ViT block (hidden ${hidden}, MLP ${inter})` };
}

/**
 * Normalise a config.json. Multimodal configs keep the language model in `text_config` (or
 * `llm_config`, `language_config`); its fields win, while quantization and dtype may sit at the top.
 */
export function parseModelConfig(raw: unknown, source: string): ModelArchitecture {
  const top = asObject(raw);
  if (!top) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `${source} is not a JSON object, so it is not a Hugging Face config.json.`,
      {
        hint: 'Point model at a directory holding config.json, or at the config.json itself.',
      },
    );
  }
  const nested = asObject(top.text_config) ?? asObject(top.llm_config) ?? asObject(top.language_config);
  const config: Json = nested ? { ...top, ...nested } : top;
  const notes: string[] = [];
  const missing: string[] = [];

  const modelType = firstString(top, ['model_type']) ?? 'unknown';
  const textModelType = nested ? firstString(nested, ['model_type']) : undefined;
  const familyType = textModelType ?? modelType;
  const architectures = Array.isArray(top.architectures) ? top.architectures.map(String) : [];
  const isMultimodal =
    nested !== undefined ||
    asObject(top.vision_config) !== undefined ||
    asObject(top.audio_config) !== undefined ||
    architectures.some((a) => a.endsWith('ForConditionalGeneration'));

  const numLayers = firstNumber(config, ['num_hidden_layers', 'n_layer', 'n_layers', 'num_layers']);
  const hiddenSize = firstNumber(config, ['hidden_size', 'n_embd', 'd_model', 'dim']);
  const numHeads = firstNumber(config, ['num_attention_heads', 'n_head', 'n_heads']);
  const absent = [
    numLayers ? undefined : 'num_hidden_layers',
    hiddenSize ? undefined : 'hidden_size',
    numHeads ? undefined : 'num_attention_heads',
  ].filter((x): x is string => x !== undefined);
  if (absent.length > 0 || !numLayers || !hiddenSize || !numHeads) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `${source} lacks ${absent.join(', ')}: the sizer cannot size this model.`,
      {
        hint: 'Check that the file is the language model config.json of a transformer (an embedding or TTS pipeline may not have one).',
        details: { missing: absent },
      },
    );
  }

  const mlaRank = firstNumber(config, ['kv_lora_rank']);
  let numKvHeads = firstNumber(config, [
    'num_key_value_heads',
    'num_kv_heads',
    'n_kv_heads',
    'multi_query_group_num',
  ]);
  if (numKvHeads === undefined) {
    if (config.multi_query === true) numKvHeads = 1;
    else {
      numKvHeads = numHeads;
      if (!mlaRank)
        notes.push('num_key_value_heads absent: multi-head attention assumed (as transformers does).');
    }
  }
  const headDim = firstNumber(config, ['head_dim', 'attention_head_dim']) ?? hiddenSize / numHeads;

  let mla: MlaShape | undefined;
  let attentionKind: AttentionKind;
  if (mlaRank) {
    const qkRopeHeadDim = firstNumber(config, ['qk_rope_head_dim']) ?? 0;
    const qkNopeHeadDim = firstNumber(config, ['qk_nope_head_dim']) ?? headDim;
    if (!firstNumber(config, ['qk_rope_head_dim'])) missing.push('qk_rope_head_dim');
    mla = {
      kvLoraRank: mlaRank,
      qLoraRank: firstNumber(config, ['q_lora_rank']),
      qkRopeHeadDim,
      qkNopeHeadDim,
      vHeadDim: firstNumber(config, ['v_head_dim']) ?? qkNopeHeadDim,
    };
    attentionKind = 'mla';
  } else if (numKvHeads === 1 && numHeads > 1) attentionKind = 'mqa';
  else if (numKvHeads < numHeads) attentionKind = 'gqa';
  else attentionKind = 'mha';

  const layerKinds = readLayerKinds(config, numLayers, notes);
  const slidingWindow = firstNumber(config, ['sliding_window', 'attention_window_size']);
  if (layerKinds.includes('sliding') && !slidingWindow) missing.push('sliding_window');

  const globalHeadDim = firstNumber(config, ['global_head_dim']);
  const globalKvHeads = firstNumber(config, ['num_global_key_value_heads']);
  const fullAttentionShape =
    globalHeadDim !== undefined || globalKvHeads !== undefined
      ? { headDim: globalHeadDim ?? headDim, numKvHeads: globalKvHeads ?? numKvHeads }
      : undefined;

  let linearAttention: LinearAttentionShape | undefined;
  if (layerKinds.includes('linear')) {
    const numKeyHeads = firstNumber(config, ['linear_num_key_heads']);
    const numValueHeads = firstNumber(config, ['linear_num_value_heads']);
    const keyHeadDim = firstNumber(config, ['linear_key_head_dim']);
    const valueHeadDim = firstNumber(config, ['linear_value_head_dim']);
    if (numKeyHeads && numValueHeads && keyHeadDim && valueHeadDim) {
      linearAttention = {
        numKeyHeads,
        numValueHeads,
        keyHeadDim,
        valueHeadDim,
        convKernel: firstNumber(config, ['linear_conv_kernel_dim']) ?? 4,
      };
    } else {
      missing.push('linear_num_key_heads/linear_num_value_heads/linear_key_head_dim/linear_value_head_dim');
      notes.push(
        'The linear-attention sizes are absent: those layers are counted with the parameters of a full-attention layer, and their per-request state is not counted.',
      );
    }
  }

  const moe = readMoe(config, numLayers, familyType, missing);
  const intermediateSize = firstNumber(config, [
    'intermediate_size',
    'ffn_dim',
    'n_inner',
    'ffn_hidden_size',
  ]);
  const needsDenseMlp = !moe || moe.isMoeLayer.some((isMoe) => !isMoe) || moe.hasParallelDenseMlp;
  if (needsDenseMlp && !intermediateSize) missing.push('intermediate_size');
  if (moe?.hasParallelDenseMlp) {
    notes.push(
      'Gemma 4 MoE: each layer is counted with a dense MLP of intermediate_size beside the experts.',
    );
  }

  const declaredTie = config.tie_word_embeddings ?? top.tie_word_embeddings;
  const tiedEmbeddings = typeof declaredTie === 'boolean' ? declaredTie : tiesEmbeddingsByDefault(familyType);

  const declaredDtype =
    firstString(top, ['torch_dtype', 'dtype']) ??
    (nested ? firstString(nested, ['torch_dtype', 'dtype']) : undefined);
  const quantization = parseQuantization(
    top.quantization_config ?? config.quantization_config ?? top.compression_config,
  );
  if (quantization?.unknown) {
    notes.push(
      `Quantization method '${quantization.method}' is not modelled: weights are counted at 16 bits (an upper bound).`,
    );
  }
  const dtype = declaredDtype ?? 'bfloat16';
  if (!declaredDtype) {
    notes.push(
      quantization
        ? 'torch_dtype absent: unquantized tensors (embeddings, norms, excluded modules) counted as bfloat16.'
        : 'torch_dtype absent: weights assumed to be bfloat16.',
    );
  }
  if (dtype === 'float32') {
    notes.push(
      'float32 checkpoint: sglang and vLLM serve it in 16 bits by default, so weights are counted at 2 bytes.',
    );
  }

  const maxPositionEmbeddings = firstNumber(config, [
    'max_position_embeddings',
    'max_seq_len',
    'n_positions',
    'seq_length',
    'model_max_length',
  ]);
  if (!maxPositionEmbeddings) missing.push('max_position_embeddings');

  const vision = isMultimodal ? readVision(top, notes) : undefined;
  if (isMultimodal && !vision && !notes.some((n) => n.startsWith('vision_config'))) {
    notes.push('Multimodal checkpoint without vision_config sizes: only the language model is counted.');
  }

  const hasSparseAttentionIndexer =
    firstNumber(config, ['index_topk', 'index_head_dim', 'index_n_heads']) !== undefined ||
    familyType.includes('dsa');
  if (hasSparseAttentionIndexer) {
    notes.push('Sparse-attention indexer (DSA): its small per-token key cache and weights are not counted.');
  }

  const vocabSize = firstNumber(config, ['vocab_size', 'padded_vocab_size']);
  if (!vocabSize) missing.push('vocab_size');

  return {
    modelType,
    textModelType,
    architectures,
    isMultimodal,
    numLayers,
    hiddenSize,
    vocabSize,
    numHeads,
    numKvHeads,
    headDim,
    attentionKind,
    mla,
    layerKinds,
    slidingWindow,
    fullAttentionShape,
    linearAttention,
    intermediateSize,
    isGatedMlp: !UNGATED_MLP_TYPES.has(familyType),
    hasAttentionBias:
      config.attention_bias === true ||
      config.qkv_bias === true ||
      familyType === 'qwen2' ||
      familyType === 'gpt_oss',
    hasExpertBias: familyType === 'gpt_oss',
    moe,
    mtpLayers:
      firstNumber(config, ['num_nextn_predict_layers', 'mtp_num_hidden_layers', 'num_mtp_layers']) ?? 0,
    tiedEmbeddings,
    maxPositionEmbeddings,
    dtype,
    isDtypeAssumed: !declaredDtype,
    quantization,
    vision,
    hasSparseAttentionIndexer,
    missing,
    notes,
  };
}
