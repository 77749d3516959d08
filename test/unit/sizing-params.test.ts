import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../../bench/sizing-validation.js';
import { estimateParameters, type ModelArchitecture, parseModelConfig } from '../../src/sizing/index.js';

interface Published {
  model: string;
  kinds: string[];
  total_params: number;
  total_params_source: string;
  active_params: number | null;
  within_3_percent: boolean;
  gap?: string;
}

const published = JSON.parse(readFileSync(join(FIXTURES_DIR, 'published.json'), 'utf8')) as Record<
  string,
  Published
>;

function load(dir: string): ModelArchitecture {
  return parseModelConfig(JSON.parse(readFileSync(join(FIXTURES_DIR, dir, 'config.json'), 'utf8')), dir);
}

function relativeError(estimate: number, total: number): number {
  return Math.abs(estimate / total - 1);
}

describe('fixture configs', () => {
  it('have one published total with a source per fixture directory', () => {
    const dirs = readdirSync(FIXTURES_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(dirs.sort()).toEqual(Object.keys(published).sort());
    for (const facts of Object.values(published)) {
      expect(facts.total_params).toBeGreaterThan(0);
      expect(facts.total_params_source.length).toBeGreaterThan(10);
      if (!facts.within_3_percent) expect(facts.gap?.length).toBeGreaterThan(10);
    }
  });

  const within = Object.entries(published).filter(([, facts]) => facts.within_3_percent);

  it('cover at least twelve architectures within 3 % of their published totals, across every kind', () => {
    expect(within.length).toBeGreaterThanOrEqual(12);
    const kinds = new Set(within.flatMap(([, facts]) => facts.kinds));
    for (const kind of [
      'dense GQA',
      'MoE',
      'MLA',
      'sliding window',
      'hybrid linear attention',
      'multimodal nested text_config',
      'fp8 checkpoint',
      'mxfp4 checkpoint',
    ]) {
      expect(kinds, kind).toContain(kind);
    }
  });

  it.each(within)('%s: estimated parameters within 3 % of the published total', (dir, facts) => {
    const estimate = estimateParameters(load(dir)).total;
    expect(relativeError(estimate, facts.total_params)).toBeLessThanOrEqual(0.03);
  });

  it.each(Object.entries(published).filter(([, facts]) => !facts.within_3_percent))(
    '%s: short of the published total for the documented gap, and says so',
    (dir, facts) => {
      const arch = load(dir);
      const estimate = estimateParameters(arch);
      expect(estimate.total).toBeLessThan(facts.total_params);
      // Each gap is a missing fact the parser reports: missing sizes or an uncounted vision tower.
      expect(estimate.isIncomplete).toBe(true);
    },
  );

  it.each([
    ['Qwen__Qwen3-235B-A22B-Instruct-2507'],
    ['deepseek-ai__DeepSeek-V3.1'],
    ['moonshotai__Kimi-K2-Instruct'],
    ['zai-org__GLM-5'],
    ['mistralai__Mixtral-8x22B-Instruct-v0.1'],
  ])('%s: active parameters within 3 % of the published figure', (dir) => {
    const facts = published[dir]!;
    const estimate = estimateParameters(load(dir));
    expect(relativeError(estimate.active, facts.active_params!)).toBeLessThanOrEqual(0.03);
  });
});

describe('parseModelConfig', () => {
  it('reads grouped-query attention, full layers and the bf16 dtype (Qwen3-8B)', () => {
    const arch = load('Qwen__Qwen3-8B');
    expect(arch).toMatchObject({
      attentionKind: 'gqa',
      numKvHeads: 8,
      headDim: 128,
      dtype: 'bfloat16',
      tiedEmbeddings: false,
    });
    expect(arch.layerKinds.every((k) => k === 'full')).toBe(true);
    expect(arch.moe).toBeUndefined();
  });

  it('reads MLA with its latent rank and rope dims, and DeepSeek-style MoE (DeepSeek-V3.1)', () => {
    const arch = load('deepseek-ai__DeepSeek-V3.1');
    expect(arch.attentionKind).toBe('mla');
    expect(arch.mla).toMatchObject({ kvLoraRank: 512, qkRopeHeadDim: 64, qLoraRank: 1536 });
    expect(arch.moe).toMatchObject({
      numExperts: 256,
      expertsPerToken: 8,
      sharedExperts: 1,
      expertIntermediateSize: 2048,
    });
    expect(arch.moe!.isMoeLayer.filter((m) => !m)).toHaveLength(3);
    expect(arch.quantization).toMatchObject({ method: 'fp8', blockSize: [128, 128] });
  });

  it('reads sliding-window layers from layer_types and mxfp4 on the experts only (gpt-oss-120b)', () => {
    const arch = load('openai__gpt-oss-120b');
    expect(arch.layerKinds.filter((k) => k === 'sliding')).toHaveLength(18);
    expect(arch.slidingWindow).toBe(128);
    expect(arch.quantization?.parts).toMatchObject({ routedExperts: true, attention: false });
    expect(arch.quantization?.bytesPerWeight).toBeCloseTo(4.25 / 8, 6);
  });

  it('reads a nested text_config and hybrid linear attention (Qwen3.5-397B-A17B)', () => {
    const arch = load('Qwen__Qwen3.5-397B-A17B');
    expect(arch.isMultimodal).toBe(true);
    expect(arch.textModelType).toBe('qwen3_5_moe_text');
    expect(arch.layerKinds.filter((k) => k === 'linear')).toHaveLength(45);
    expect(arch.layerKinds.filter((k) => k === 'full')).toHaveLength(15);
    // The sourced facts lack the Gated DeltaNet sizes: reported, not guessed.
    expect(arch.linearAttention).toBeUndefined();
    expect(arch.missing.some((m) => m.startsWith('linear_num_key_heads'))).toBe(true);
    expect(arch.missing).toContain('shared_expert_intermediate_size');
  });

  it('reads int4 compressed-tensors with its ignore list (Kimi-K2.5)', () => {
    const arch = load('moonshotai__Kimi-K2.5');
    expect(arch.quantization).toMatchObject({ method: 'compressed-tensors', bits: 4, groupSize: 32 });
    expect(arch.quantization?.parts).toMatchObject({
      routedExperts: true,
      attention: false,
      sharedExperts: false,
      denseMlp: false,
    });
    // 4-bit values plus one 16-bit scale per 32 weights.
    expect(arch.quantization?.bytesPerWeight).toBeCloseTo(0.5 + 2 / 32, 6);
  });

  it('reads Gemma 4 global layers with their own KV shape and ties its embeddings by default', () => {
    const arch = load('google__gemma-4-31B-it');
    expect(arch.fullAttentionShape).toEqual({ headDim: 512, numKvHeads: 4 });
    expect(arch.layerKinds.filter((k) => k === 'sliding')).toHaveLength(50);
    expect(arch.tiedEmbeddings).toBe(true);
  });

  it('reports missing facts instead of guessing them', () => {
    const arch = load('swiss-ai__Apertus-8B-Instruct-2509');
    expect(arch.missing).toEqual(expect.arrayContaining(['intermediate_size', 'max_position_embeddings']));
    expect(arch.notes.some((n) => n.includes('torch_dtype absent'))).toBe(true);
  });

  it('refuses a config without the core sizes, naming them', () => {
    expect(() => parseModelConfig({ model_type: 'llama', hidden_size: 4096 }, 'x/config.json')).toThrow(
      /num_hidden_layers, num_attention_heads/,
    );
  });

  it('counts tied embeddings once and untied twice', () => {
    const base = {
      num_hidden_layers: 2,
      hidden_size: 64,
      num_attention_heads: 4,
      intermediate_size: 128,
      vocab_size: 1000,
    };
    const tied = estimateParameters(parseModelConfig({ ...base, tie_word_embeddings: true }, 't'));
    const untied = estimateParameters(parseModelConfig({ ...base, tie_word_embeddings: false }, 'u'));
    expect(untied.total - tied.total).toBe(1000 * 64);
  });
});
