/**
 * Checkpoint quantization (`quantization_config` of a Hugging Face config.json): how many bytes a
 * quantized weight takes, scales included, and which parts of a transformer block are quantized.
 * Embeddings, the LM head, routers and norms are never counted as quantized: every method the
 * engines load keeps them in 16 bits (the configs list them in their ignore lists, or leave them out).
 */

import { createContext, Script } from 'node:vm';
import { SmlError } from '../errors.js';

/** The parts of a block a quantization may cover. */
export type QuantizedPart = 'attention' | 'linearAttention' | 'denseMlp' | 'sharedExperts' | 'routedExperts';

export interface WeightQuantization {
  /** `quant_method` as the config writes it (fp8, mxfp4, awq, gptq, compressed-tensors, modelopt…). */
  method: string;
  /** Human description: `fp8 e4m3, 128×128 blocks`, `int4, groups of 32`… */
  format: string;
  /** Bits of one quantized weight, without scales. */
  bits: number;
  /** Bytes per quantized weight including its share of the scales (and zero points). */
  bytesPerWeight: number;
  /** fp8 block size [rows, columns] (`weight_block_size`), when block-wise. */
  blockSize?: [number, number];
  /** Weights per scale group (int4 and mxfp4 group sizes), when group-wise. */
  groupSize?: number;
  /** Which block parts hold quantized weights (the others stay in the checkpoint dtype). */
  parts: Record<QuantizedPart, boolean>;
  /** Weight sizes must split evenly into blocks/groups on every tensor-parallel rank (int4/fp8 block kernels). */
  needsAlignedShards: boolean;
  /** Set when the method is not modelled: the weights are then counted at 16 bits (an upper bound). */
  unknown?: boolean;
}

/** One module name per part, in the usual Hugging Face naming, to test ignore patterns against. */
const PART_SAMPLES: Record<QuantizedPart, readonly string[]> = {
  attention: [
    'model.layers.0.self_attn.q_proj',
    'model.layers.0.self_attn.o_proj',
    'model.layers.0.self_attn.kv_b_proj',
  ],
  linearAttention: ['model.layers.0.linear_attn.in_proj_qkvz', 'model.layers.0.linear_attn.out_proj'],
  denseMlp: ['model.layers.0.mlp.gate_proj', 'model.layers.0.mlp.down_proj'],
  sharedExperts: [
    'model.layers.5.mlp.shared_experts.gate_proj',
    'model.layers.5.mlp.shared_expert.down_proj',
  ],
  routedExperts: [
    'model.layers.5.mlp.experts.0.gate_proj',
    'model.layers.5.mlp.experts.gate_up_proj',
    'model.layers.5.block_sparse_moe.experts.0.w1',
  ],
};

/**
 * Whether an ignore pattern covers a module. `re:` patterns are regular expressions matched from the
 * start (compressed-tensors); others are dotted names where `*` stands for one component, matching
 * the module or any of its parents' positions (vLLM's prefix/component rule): `gate` covers
 * `…block_sparse_moe.gate` but not `…mlp.gate_proj`.
 */
export function isCoveredByPattern(moduleName: string, pattern: string): boolean {
  return pattern.startsWith('re:')
    ? matchedByRegexes([pattern.slice(3)], [moduleName]).size > 0
    : isCoveredByDottedPattern(moduleName, pattern);
}

function isCoveredByDottedPattern(moduleName: string, pattern: string): boolean {
  const name = moduleName.split('.');
  const wanted = pattern.split('.');
  for (let start = 0; start + wanted.length <= name.length; start++) {
    if (wanted.every((part, i) => part === '*' || part === name[start + i])) return true;
  }
  return false;
}

/**
 * The `re:` patterns come from a file anyone can publish, and a backtracking pattern such as
 * `(.|.)*X` would run for years on one module name. All of a config's patterns together get this
 * much time; V8 interrupts a regular expression that runs past a vm timeout.
 */
export const REGEX_BUDGET_MS = 250;
const REGEX_SCRIPT = new Script(`
  const matched = [];
  for (current = 0; current < sources.length; current++) {
    let re;
    try { re = new RegExp('^(?:' + sources[current] + ')'); } catch { continue; }
    for (const subject of subjects) if (re.test(subject)) matched.push(subject);
  }
  matched;
`);

/** The subjects any of the regular expressions matches from the start (invalid ones match nothing). */
function matchedByRegexes(sources: readonly string[], subjects: readonly string[]): Set<string> {
  if (sources.length === 0) return new Set();
  const context = createContext({ sources, subjects, current: 0 });
  try {
    return new Set(REGEX_SCRIPT.runInContext(context, { timeout: REGEX_BUDGET_MS }) as string[]);
  } catch (error) {
    const slow = String(sources[context.current as number] ?? '');
    throw new SmlError(
      'INVALID_ARGUMENT',
      `The model config's quantization_config ignore pattern 're:${slow.length > 80 ? `${slow.slice(0, 80)}…` : slow}' did not finish matching within ${REGEX_BUDGET_MS} ms (a catastrophically backtracking regular expression).`,
      {
        hint: 'The config.json is damaged or hostile: point model at an unmodified Hugging Face config.json.',
        cause: error,
      },
    );
  }
}

function ignoredPatterns(config: Record<string, unknown>): string[] {
  const keys = ['modules_to_not_convert', 'ignore', 'ignored_layers', 'exclude_modules', 'ignored_modules'];
  const patterns: string[] = [];
  for (const key of keys) {
    const value = config[key];
    if (Array.isArray(value)) patterns.push(...value.filter((v): v is string => typeof v === 'string'));
  }
  return patterns;
}

function partsCovered(patterns: readonly string[]): Record<QuantizedPart, boolean> {
  const samples = Object.values(PART_SAMPLES).flat();
  const regexes = patterns.filter((p) => p.startsWith('re:')).map((p) => p.slice(3));
  const dotted = patterns.filter((p) => !p.startsWith('re:'));
  const ignored = matchedByRegexes(regexes, samples);
  for (const sample of samples) {
    if (dotted.some((pattern) => isCoveredByDottedPattern(sample, pattern))) ignored.add(sample);
  }
  const parts = {} as Record<QuantizedPart, boolean>;
  for (const [part, partSamples] of Object.entries(PART_SAMPLES) as [QuantizedPart, readonly string[]][]) {
    parts[part] = !partSamples.some((sample) => ignored.has(sample));
  }
  return parts;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Bytes per weight of a group-quantized integer format: packed bits plus a 16-bit scale per group. */
function groupBytes(bits: number, groupSize: number, hasZeroPoint: boolean): number {
  if (groupSize <= 0) return bits / 8;
  // One fp16/bf16 scale per group, plus a packed zero point of `bits` bits for asymmetric schemes.
  return bits / 8 + (2 + (hasZeroPoint ? bits / 8 : 0)) / groupSize;
}

/** The weights of compressed-tensors: the first config group's `weights`, or a flat `weights`. */
function compressedTensorsWeights(config: Record<string, unknown>): Record<string, unknown> | undefined {
  if (config.weights && typeof config.weights === 'object') return config.weights as Record<string, unknown>;
  const groups = config.config_groups;
  if (groups && typeof groups === 'object') {
    for (const group of Object.values(groups as Record<string, unknown>)) {
      const weights = (group as { weights?: unknown } | null)?.weights;
      if (weights && typeof weights === 'object') return weights as Record<string, unknown>;
    }
  }
  return undefined;
}

/** Parse `quantization_config`; undefined when there is none. */
export function parseQuantization(raw: unknown): WeightQuantization | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const config = raw as Record<string, unknown>;
  const method = String(config.quant_method ?? config.quant_algo ?? 'unknown').toLowerCase();
  const parts = partsCovered(ignoredPatterns(config));
  const base = { method, parts };

  if (method === 'fp8' || method === 'fbgemm_fp8' || method === 'ptpc_fp8') {
    const block = config.weight_block_size;
    if (Array.isArray(block) && block.length === 2 && block.every((n) => typeof n === 'number' && n > 0)) {
      const [rows, cols] = block as [number, number];
      // One fp32 scale per block of rows×cols weights.
      return {
        ...base,
        format: `fp8 ${String(config.fmt ?? 'e4m3')}, ${rows}×${cols} blocks`,
        bits: 8,
        bytesPerWeight: 1 + 4 / (rows * cols),
        blockSize: [rows, cols],
        needsAlignedShards: true,
      };
    }
    return {
      ...base,
      format: 'fp8, per-tensor/channel scales',
      bits: 8,
      bytesPerWeight: 1,
      needsAlignedShards: false,
    };
  }
  if (method === 'mxfp4') {
    // OCP MX: 4-bit e2m1 values with one 8-bit e8m0 scale per 32 values; engines pad shards themselves.
    return {
      ...base,
      format: 'mxfp4 (e2m1, scale per 32)',
      bits: 4,
      bytesPerWeight: 4.25 / 8,
      groupSize: 32,
      needsAlignedShards: false,
    };
  }
  if (method === 'awq' || method === 'gptq' || method.endsWith('_marlin') || method === 'auto-round') {
    const bits = numberOr(config.bits ?? config.w_bit, 4);
    const groupSize = numberOr(config.group_size ?? config.q_group_size, 128);
    const hasZeroPoint = method.startsWith('awq') ? config.zero_point !== false : config.sym !== true;
    return {
      ...base,
      format: `int${bits}, groups of ${groupSize > 0 ? groupSize : 'a channel'}`,
      bits,
      bytesPerWeight: groupBytes(bits, groupSize, hasZeroPoint),
      groupSize: groupSize > 0 ? groupSize : undefined,
      needsAlignedShards: groupSize > 0,
    };
  }
  if (method === 'compressed-tensors') {
    const weights = compressedTensorsWeights(config);
    const bits = numberOr(weights?.num_bits, 8);
    const type = String(weights?.type ?? 'int');
    const strategy = String(weights?.strategy ?? 'channel');
    const groupSize = numberOr(weights?.group_size, 0);
    if (type === 'float') {
      const block = weights?.block_structure;
      const isBlock = Array.isArray(block) && block.length === 2;
      const [rows, cols] = isBlock ? (block as [number, number]) : [0, 0];
      return {
        ...base,
        format: `fp${bits}${isBlock ? `, ${rows}×${cols} blocks` : `, ${strategy} scales`}`,
        bits,
        bytesPerWeight:
          bits / 8 +
          (isBlock ? 4 / (rows * cols) : strategy === 'group' && groupSize > 0 ? 1 / groupSize : 0),
        blockSize: isBlock ? [rows, cols] : undefined,
        needsAlignedShards: isBlock,
      };
    }
    const isGroup = strategy === 'group' && groupSize > 0;
    return {
      ...base,
      format: `int${bits}${isGroup ? `, groups of ${groupSize}` : `, ${strategy} scales`}`,
      bits,
      bytesPerWeight: isGroup ? groupBytes(bits, groupSize, weights?.symmetric === false) : bits / 8,
      groupSize: isGroup ? groupSize : undefined,
      needsAlignedShards: isGroup,
    };
  }
  if (method === 'modelopt' || method === 'nvfp4' || method === 'modelopt_fp4') {
    const algo = String(
      config.quant_algo ?? (config.quantization as { quant_algo?: string } | undefined)?.quant_algo ?? '',
    );
    if (algo.toUpperCase().includes('FP8')) {
      return { ...base, format: 'fp8 (ModelOpt)', bits: 8, bytesPerWeight: 1, needsAlignedShards: false };
    }
    // NVFP4: e2m1 values with one fp8 scale per 16 values.
    return {
      ...base,
      format: 'nvfp4 (scale per 16)',
      bits: 4,
      bytesPerWeight: 0.5 + 1 / 16,
      groupSize: 16,
      needsAlignedShards: true,
    };
  }
  if (method === 'bitsandbytes') {
    if (config.load_in_8bit === true) {
      return {
        ...base,
        format: 'int8 (bitsandbytes)',
        bits: 8,
        bytesPerWeight: 1,
        needsAlignedShards: false,
      };
    }
    // nf4 with an fp32 absmax per 64 weights.
    return {
      ...base,
      format: 'nf4 (bitsandbytes)',
      bits: 4,
      bytesPerWeight: 0.5 + 4 / 64,
      groupSize: 64,
      needsAlignedShards: false,
    };
  }
  return {
    ...base,
    format: `${method} (not modelled)`,
    bits: 16,
    bytesPerWeight: 2,
    needsAlignedShards: false,
    unknown: true,
  };
}
