import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../../bench/sizing-validation.js';
import { SmlError } from '../../src/errors.js';
import {
  estimateParameters,
  findGpu,
  kvCost,
  type ModelArchitecture,
  modelWeightBytes,
  parseModelConfig,
  parseQuantization,
  planGpuMemory,
  sglangMemFractionStatic,
  weightBytesPerGpu,
} from '../../src/sizing/index.js';
import {
  GiB,
  kvBytesFor,
  maxContextFor,
  RUNTIME_CONTEXT_BYTES,
  vllmActivationBytes,
} from '../../src/sizing/memory.js';
import { isCoveredByPattern } from '../../src/sizing/quantization.js';

function fixture(dir: string): ModelArchitecture {
  return parseModelConfig(JSON.parse(readFileSync(join(FIXTURES_DIR, dir, 'config.json'), 'utf8')), dir);
}

/** A small dense config; overrides shape the attention. */
function dense(overrides: Record<string, unknown> = {}): ModelArchitecture {
  return parseModelConfig(
    {
      model_type: 'llama',
      num_hidden_layers: 32,
      hidden_size: 4096,
      num_attention_heads: 32,
      intermediate_size: 14336,
      vocab_size: 128000,
      torch_dtype: 'bfloat16',
      ...overrides,
    },
    'synthetic',
  );
}

const GH200 = findGpu('GH200');

describe('KV cache per token, per attention kind', () => {
  it('MHA: K and V for every head of every layer', () => {
    const arch = dense();
    expect(arch.attentionKind).toBe('mha');
    expect(kvCost(arch, 'auto', { tp: 1, pp: 1 }).perToken).toBe(32 * 2 * 32 * 128 * 2);
    // Heads split over tp: a quarter per GPU at tp 4.
    expect(kvCost(arch, 'auto', { tp: 4, pp: 1 }).perToken).toBe((32 * 2 * 32 * 128 * 2) / 4);
  });

  it('GQA: only the KV heads, split over tp until tp exceeds them, then one head per GPU', () => {
    const arch = fixture('Qwen__Qwen3-8B');
    const whole = 36 * 2 * 8 * 128 * 2;
    expect(kvCost(arch, 'auto', { tp: 1, pp: 1 }).perToken).toBe(whole);
    expect(kvCost(arch, 'auto', { tp: 8, pp: 1 }).perToken).toBe(whole / 8);
    expect(kvCost(arch, 'auto', { tp: 16, pp: 1 }).perToken).toBe(36 * 2 * 1 * 128 * 2);
  });

  it('MQA: one KV head, the same on every GPU whatever the tp', () => {
    const arch = dense({ num_key_value_heads: 1 });
    expect(arch.attentionKind).toBe('mqa');
    const one = kvCost(arch, 'auto', { tp: 1, pp: 1 }).perToken;
    expect(one).toBe(32 * 2 * 128 * 2);
    expect(kvCost(arch, 'auto', { tp: 4, pp: 1 }).perToken).toBe(one);
  });

  it('MLA: the compressed latent plus the rope key, whole on every tensor-parallel rank', () => {
    const arch = fixture('deepseek-ai__DeepSeek-V3.1');
    const perToken = 61 * (512 + 64) * 2;
    expect(kvCost(arch, 'auto', { tp: 1, pp: 1 }).perToken).toBe(perToken);
    expect(kvCost(arch, 'auto', { tp: 16, pp: 1 }).perToken).toBe(perToken);
    // Pipeline stages split the layers (31 + 30): the fuller stage decides.
    expect(kvCost(arch, 'auto', { tp: 8, pp: 2 }).perToken).toBe(31 * (512 + 64) * 2);
  });

  it('sliding window: those layers stop growing at the window', () => {
    const arch = fixture('openai__gpt-oss-120b');
    const cost = kvCost(arch, 'auto', { tp: 1, pp: 1 });
    const perLayer = 2 * 8 * 64 * 2;
    expect(cost.perToken).toBe(18 * perLayer);
    expect(cost.perWindowToken).toBe(18 * perLayer);
    expect(cost.window).toBe(128);
    // Past the window only the 18 full layers grow.
    expect(kvBytesFor(cost, 10_128, 1) - kvBytesFor(cost, 128, 1)).toBe(10_000 * 18 * perLayer);
    expect(kvBytesFor(cost, 64, 1)).toBe(64 * 36 * perLayer);
  });

  it('Gemma 4: global layers use their own head size and KV heads, local layers theirs', () => {
    const arch = fixture('google__gemma-4-31B-it');
    const cost = kvCost(arch, 'auto', { tp: 1, pp: 1 });
    expect(cost.perToken).toBe(10 * 2 * 4 * 512 * 2);
    expect(cost.perWindowToken).toBe(50 * 2 * 16 * 256 * 2);
    expect(cost.window).toBe(1024);
  });

  it('linear attention: no per-token KV, a fixed state per request', () => {
    const arch = parseModelConfig(
      {
        model_type: 'qwen3_next',
        num_hidden_layers: 8,
        hidden_size: 2048,
        num_attention_heads: 16,
        num_key_value_heads: 2,
        head_dim: 256,
        intermediate_size: 5120,
        vocab_size: 1000,
        full_attention_interval: 4,
        linear_num_key_heads: 16,
        linear_num_value_heads: 32,
        linear_key_head_dim: 128,
        linear_value_head_dim: 128,
        linear_conv_kernel_dim: 4,
      },
      'synthetic-hybrid',
    );
    expect(arch.layerKinds.filter((k) => k === 'linear')).toHaveLength(6);
    const cost = kvCost(arch, 'auto', { tp: 1, pp: 1 });
    expect(cost.perToken).toBe(2 * 2 * 2 * 256 * 2);
    const recurrent = 32 * 128 * 128 * 4;
    const conv = 3 * (2 * 16 * 128 + 32 * 128) * 2;
    expect(cost.perRequest).toBe(6 * (recurrent + conv));
    expect(kvCost(arch, 'auto', { tp: 2, pp: 1 }).perRequest).toBe((6 * (recurrent + conv)) / 2);
  });

  it('an fp8 KV cache halves every per-token figure', () => {
    for (const dir of ['Qwen__Qwen3-8B', 'deepseek-ai__DeepSeek-V3.1', 'openai__gpt-oss-120b']) {
      const arch = fixture(dir);
      const auto = kvCost(arch, 'auto', { tp: 1, pp: 1 });
      const fp8 = kvCost(arch, 'fp8', { tp: 1, pp: 1 });
      expect(fp8.perToken * 2).toBe(auto.perToken);
      expect(fp8.perWindowToken * 2).toBe(auto.perWindowToken);
    }
  });

  it('maxContextFor is the largest context whose KV fits the pool', () => {
    const arch = fixture('openai__gpt-oss-120b');
    const cost = kvCost(arch, 'auto', { tp: 1, pp: 1 });
    const pool = 10 * GiB;
    for (const requests of [1, 8, 100]) {
      const context = maxContextFor(cost, pool, requests);
      expect(kvBytesFor(cost, context, requests)).toBeLessThanOrEqual(pool);
      expect(kvBytesFor(cost, context + 1, requests)).toBeGreaterThan(pool);
    }
  });
});

describe('weight bytes by dtype and quantization', () => {
  it('16-bit checkpoints: two bytes per parameter', () => {
    const arch = fixture('Qwen__Qwen3-8B');
    const params = estimateParameters(arch);
    expect(modelWeightBytes(arch, params).total).toBe(params.total * 2);
  });

  it('fp32 checkpoints are served in 16 bits', () => {
    const arch = dense({ torch_dtype: 'float32' });
    const params = estimateParameters(arch);
    expect(modelWeightBytes(arch, params).total).toBe(params.total * 2);
    expect(arch.notes.some((n) => n.includes('float32'))).toBe(true);
  });

  it('fp8 block-quantized layers: one byte plus an fp32 scale per 128×128 block; embeddings stay 16-bit', () => {
    const arch = fixture('zai-org__GLM-5-FP8');
    const params = estimateParameters(arch);
    const bytes = modelWeightBytes(arch, params);
    const layerParams = params.total - params.embedding - params.lmHead - params.mtp - params.byPart.router;
    const expected =
      layerParams * (1 + 4 / (128 * 128)) +
      (params.embedding + params.lmHead + params.byPart.router) * 2 +
      bytes.byPart.mtp!;
    expect(bytes.total).toBeCloseTo(expected, -3);
    // About half the bf16 GLM-5.
    const bf16 = fixture('zai-org__GLM-5');
    const ratio = bytes.total / modelWeightBytes(bf16, estimateParameters(bf16)).total;
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(0.51);
  });

  it('mxfp4 experts: 4.25 bits per weight, attention and embeddings 16-bit (gpt-oss-120b)', () => {
    const arch = fixture('openai__gpt-oss-120b');
    const params = estimateParameters(arch);
    const bytes = modelWeightBytes(arch, params);
    expect(bytes.byPart.routedExperts).toBeCloseTo(params.byPart.routedExperts * (4.25 / 8), -3);
    expect(bytes.byPart.attention).toBe(params.byPart.attention * 2);
    expect(bytes.byPart.embedding).toBe(params.embedding * 2);
  });

  it('AWQ and GPTQ int4: half a byte plus a 16-bit scale (and packed zero point) per group', () => {
    const awq = parseQuantization({ quant_method: 'awq', bits: 4, group_size: 128, zero_point: true });
    expect(awq?.bytesPerWeight).toBeCloseTo(0.5 + (2 + 0.5) / 128, 9);
    const gptq = parseQuantization({ quant_method: 'gptq', bits: 4, group_size: 128, sym: true });
    expect(gptq?.bytesPerWeight).toBeCloseTo(0.5 + 2 / 128, 9);
    expect(parseQuantization({ quant_method: 'something-new' })).toMatchObject({
      unknown: true,
      bytesPerWeight: 2,
    });
  });

  it('ignore patterns: regex, dotted wildcards, and whole components only', () => {
    expect(isCoveredByPattern('model.layers.3.self_attn.q_proj', 're:.*self_attn.*')).toBe(true);
    expect(isCoveredByPattern('model.layers.3.self_attn.q_proj', 'model.layers.*.self_attn')).toBe(true);
    expect(isCoveredByPattern('model.layers.3.block_sparse_moe.gate', 'gate')).toBe(true);
    expect(isCoveredByPattern('model.layers.3.mlp.gate_proj', 'gate')).toBe(false);
    expect(
      isCoveredByPattern(
        'model.layers.3.mlp.experts.0.gate_proj',
        're:.*mlp\\.(gate|up|gate_up|down)_proj.*',
      ),
    ).toBe(false);
    expect(
      isCoveredByPattern('model.layers.0.mlp.gate_proj', 're:.*mlp\\.(gate|up|gate_up|down)_proj.*'),
    ).toBe(true);
  });

  it('ignore patterns that backtrack catastrophically end in a clear error naming the pattern', () => {
    let thrown: unknown;
    try {
      parseQuantization({
        quant_method: 'compressed-tensors',
        ignore: ['lm_head', 're:.*gate$', 're:(a|a)*(.|.)*X'],
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SmlError);
    expect((thrown as SmlError).code).toBe('INVALID_ARGUMENT');
    expect((thrown as SmlError).message).toContain("'re:(a|a)*(.|.)*X'");
    // An invalid expression matches nothing, as before.
    expect(parseQuantization({ quant_method: 'fp8', ignore: ['re:(unclosed'] })?.parts.attention).toBe(true);
  });

  it('per GPU: sharded parts divide by tp, MLA down-projections and routers are replicated', () => {
    const arch = fixture('deepseek-ai__DeepSeek-V3.1');
    const params = estimateParameters(arch);
    const one = weightBytesPerGpu(arch, params, { tp: 1, pp: 1, ep: 1 });
    const eight = weightBytesPerGpu(arch, params, { tp: 8, pp: 1, ep: 1 });
    expect(eight).toBeGreaterThan(one / 8);
    const replicated = params.layers.reduce(
      (sum, layer) => sum + layer.parts.reduce((s, part) => s + part.replicated, 0),
      0,
    );
    expect(replicated).toBeGreaterThan(0);
    expect(eight - one / 8).toBeGreaterThan(0);
  });

  it('per GPU with pp: the fullest stage (layers plus embedding or head) decides', () => {
    // 64 layers and an untied head: two equal stages (32 layers + embedding, 32 layers + head).
    const qwen = fixture('Qwen__Qwen3-32B');
    const qwenParams = estimateParameters(qwen);
    expect(weightBytesPerGpu(qwen, qwenParams, { tp: 1, pp: 2, ep: 1 })).toBe(
      weightBytesPerGpu(qwen, qwenParams, { tp: 1, pp: 1, ep: 1 }) / 2,
    );
    // Tied embeddings: the last stage needs its own copy of the head, so a stage holds more than half.
    const gemma = fixture('google__gemma-4-31B-it');
    const gemmaParams = estimateParameters(gemma);
    const whole = weightBytesPerGpu(gemma, gemmaParams, { tp: 1, pp: 1, ep: 1 });
    expect(weightBytesPerGpu(gemma, gemmaParams, { tp: 1, pp: 2, ep: 1 })).toBeCloseTo(
      whole / 2 + gemmaParams.embedding,
      -3,
    );
  });
});

describe('engine reservations per GPU', () => {
  it("sglang's default mem-fraction-static follows its reserve formula and shrinks with tp", () => {
    // GH200 96 GiB = 98304 MiB, chunked prefill 8192, CUDA-graph batch 256 (tp < 4) or 512.
    expect(sglangMemFractionStatic(GH200, 1, 1)).toBe(
      Math.round(((98304 - (512 + 12288 + 512 + 128)) / 98304) * 1000) / 1000,
    );
    expect(sglangMemFractionStatic(GH200, 4, 1)).toBe(
      Math.round(((98304 - (512 + 12288 + 1024 + 512)) / 98304) * 1000) / 1000,
    );
    expect(sglangMemFractionStatic(GH200, 16, 1)).toBeLessThan(sglangMemFractionStatic(GH200, 8, 1));
    expect(sglangMemFractionStatic(GH200, 8, 1, true)).toBeLessThan(sglangMemFractionStatic(GH200, 8, 1));
    // A100 40 GiB sits in the 4096-token tier.
    const a100 = findGpu('A100-40GB');
    expect(sglangMemFractionStatic(a100, 1, 1)).toBe(
      Math.round(((40960 - (512 + 6144 + 64 + 128)) / 40960) * 1000) / 1000,
    );
  });

  it('sglang: KV pool = fraction × memory − weights − runtime context', () => {
    const arch = fixture('Qwen__Qwen3-8B');
    const plan = planGpuMemory('sglang', GH200, arch, 20 * GiB, { tp: 1, pp: 1, ep: 1 });
    const fraction = sglangMemFractionStatic(GH200, 1, 1);
    expect(plan.engineFraction).toBe(fraction);
    expect(plan.kvPoolBytes).toBeCloseTo(96 * GiB * fraction - 20 * GiB - RUNTIME_CONTEXT_BYTES, 0);
  });

  it('vLLM: KV pool = 0.9 × memory − weights − profiled activations − runtime context', () => {
    const arch = fixture('Qwen__Qwen3-8B');
    const plan = planGpuMemory('vllm', GH200, arch, 20 * GiB, { tp: 1, pp: 1, ep: 1 });
    expect(plan.engineFraction).toBe(0.9);
    const activations = vllmActivationBytes(arch, GH200, 1);
    expect(activations).toBeGreaterThan(0.5 * GiB);
    expect(activations).toBeLessThan(4 * GiB);
    expect(plan.kvPoolBytes).toBeCloseTo(96 * GiB * 0.9 - 20 * GiB - activations - RUNTIME_CONTEXT_BYTES, 0);
  });

  it('weights larger than the budget leave a negative pool', () => {
    const arch = fixture('Qwen__Qwen3-8B');
    expect(planGpuMemory('sglang', GH200, arch, 90 * GiB, { tp: 1, pp: 1, ep: 1 }).kvPoolBytes).toBeLessThan(
      0,
    );
  });
});
