import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../../bench/sizing-validation.js';
import { SmlError } from '../../src/errors.js';
import {
  checkDivisibility,
  estimateParameters,
  findGpu,
  layoutShapes,
  type ModelArchitecture,
  parseModelConfig,
  SizeModelResult,
  sizeModel,
} from '../../src/sizing/index.js';
import { legalLayout, type PlanRequest, type SizedModel } from '../../src/sizing/planner.js';

function fixtureDir(dir: string): string {
  return join(FIXTURES_DIR, dir);
}

function fixture(dir: string): ModelArchitecture {
  return parseModelConfig(JSON.parse(readFileSync(join(fixtureDir(dir), 'config.json'), 'utf8')), dir);
}

function sized(arch: ModelArchitecture): SizedModel {
  return { arch, params: estimateParameters(arch), weightScale: 1 };
}

const CLARIDEN_SGLANG: PlanRequest = {
  framework: 'sglang',
  gpu: findGpu('GH200'),
  gpusPerNode: 4,
  context: 32768,
  concurrency: 8,
  objective: 'throughput',
  kvDtype: 'auto',
  maxNodes: 16,
  isSpeculative: false,
};

/** The sizer never reaches the network in these tests. */
const OFFLINE = { hub: false } as const;

describe('layout shapes', () => {
  it('sglang spans nodes with tensor parallelism over all their GPUs', () => {
    const shapes = layoutShapes('sglang', 4, 3);
    expect(shapes.map((s) => [s.gpus, s.tp, s.pp, s.nodes])).toEqual([
      [1, 1, 1, 1],
      [2, 2, 1, 1],
      [4, 4, 1, 1],
      [8, 8, 1, 2],
      [12, 12, 1, 3],
    ]);
  });

  it('vLLM keeps tensor parallelism inside a node and pipelines across nodes', () => {
    const shapes = layoutShapes('vllm', 4, 3);
    expect(shapes.slice(3).map((s) => [s.gpus, s.tp, s.pp, s.nodes])).toEqual([
      [8, 4, 2, 2],
      [12, 4, 3, 3],
    ]);
  });
});

describe('divisibility rules', () => {
  it('attention heads must split evenly over tp', () => {
    const arch = fixture('rednote-hilab__dots.mocr'); // 12 heads, 2 KV heads
    expect(checkDivisibility(arch, 4, 1, 1).problems).toEqual([]);
    expect(checkDivisibility(arch, 8, 1, 1).problems).toEqual(['12 attention heads do not split over tp 8']);
  });

  it('KV heads split evenly, or tp is a multiple of them (each rank keeps a copy)', () => {
    const qwen = fixture('Qwen__Qwen3-235B-A22B-Instruct-2507'); // 64 heads, 4 KV heads
    const atEight = checkDivisibility(qwen, 8, 1, 1);
    expect(atEight.problems).toEqual([]);
    expect(atEight.warnings.join(' ')).toMatch(/exceeds the 4 KV heads/);
    const odd = parseModelConfig(
      {
        num_hidden_layers: 4,
        hidden_size: 768,
        num_attention_heads: 12,
        num_key_value_heads: 6,
        intermediate_size: 3072,
        vocab_size: 100,
      },
      'odd',
    );
    expect(checkDivisibility(odd, 4, 1, 1).problems).toEqual([
      '6 KV heads do not split over tp 4 (nor is tp a multiple of them)',
    ]);
    expect(checkDivisibility(odd, 3, 1, 1).problems).toEqual([]);
  });

  it('experts must split evenly over ep', () => {
    const mixtral = fixture('mistralai__Mixtral-8x22B-Instruct-v0.1'); // 8 experts
    expect(checkDivisibility(mixtral, 8, 1, 8).problems).toEqual([]);
    expect(checkDivisibility(mixtral, 16, 1, 16).problems).toContain('8 experts do not split over ep 16');
  });

  it('fp8 block-quantized expert slices must stay whole 128-blocks, else expert parallelism', () => {
    const minimax = fixture('MiniMaxAI__MiniMax-M2.5'); // expert intermediate 1536, fp8 128×128 blocks
    expect(checkDivisibility(minimax, 4, 1, 1).expertShardProblems).toEqual([]); // 384 per rank
    expect(checkDivisibility(minimax, 8, 1, 1).expertShardProblems).toEqual([
      'expert intermediate size slice 1536/8 = 192 is not a multiple of the 128-wide quantization blocks',
    ]);
    // The planner then gives each rank whole experts: what the catalog's --tp-size 8 --ep-size 8 does.
    const { planned } = legalLayout(sized(minimax), CLARIDEN_SGLANG, { tp: 8, pp: 1, nodes: 2, gpus: 8 });
    expect(planned?.layout).toMatchObject({ tp: 8, ep: 8 });
    expect(planned?.warnings.join(' ')).toMatch(/Expert parallelism \(ep 8\) is needed/);
  });

  it('fp8 dense MLP slices that break the blocks rule the layout out', () => {
    const arch = parseModelConfig(
      {
        num_hidden_layers: 4,
        hidden_size: 1024,
        num_attention_heads: 16,
        num_key_value_heads: 8,
        intermediate_size: 1536,
        vocab_size: 100,
        quantization_config: { quant_method: 'fp8', weight_block_size: [128, 128] },
      },
      'dense-fp8',
    );
    expect(checkDivisibility(arch, 4, 1, 1).problems).toEqual([]);
    expect(checkDivisibility(arch, 8, 1, 1).problems).toEqual([
      'MLP intermediate size slice 1536/8 = 192 is not a multiple of the 128-wide quantization blocks',
    ]);
  });

  it('layers that do not split evenly over pp are allowed with a warning', () => {
    const arch = fixture('deepseek-ai__DeepSeek-V3.1'); // 61 layers
    const check = checkDivisibility(arch, 8, 2, 1);
    expect(check.problems).toEqual([]);
    expect(check.warnings.join(' ')).toMatch(
      /61 layers do not split evenly over pp 2: the largest stage holds 31/,
    );
  });
});

describe('sizeModel', () => {
  it('packs a small model several replicas per node, one GPU each', async () => {
    const result = await sizeModel({ model: fixtureDir('Qwen__Qwen3-8B'), system: 'clariden' }, OFFLINE);
    expect(result.fits).toBe(true);
    expect(result.layout).toEqual({
      gpus_per_replica: 1,
      nodes_per_replica: 1,
      tp: 1,
      pp: 1,
      ep: 1,
      replicas_per_node: 4,
    });
    expect(result.framework_args).toEqual([]);
    expect(result.alternatives.map((a) => a.label)).toEqual(
      expect.arrayContaining(['one process per node', 'lower latency']),
    );
  });

  it('objective latency uses the whole node', async () => {
    const result = await sizeModel(
      { model: fixtureDir('Qwen__Qwen3-8B'), system: 'clariden', objective: 'latency', framework: 'vllm' },
      OFFLINE,
    );
    expect(result.layout).toMatchObject({ gpus_per_replica: 4, tp: 4, replicas_per_node: 1 });
    expect(result.framework_args).toEqual(['--tensor-parallel-size', '4']);
  });

  it('spans nodes the way each engine does, with the per-node arguments left to the launcher', async () => {
    const model = fixtureDir('Qwen__Qwen3-235B-A22B-Instruct-2507');
    const sglang = await sizeModel({ model, system: 'clariden', framework: 'sglang' }, OFFLINE);
    expect(sglang.layout).toMatchObject({ gpus_per_replica: 8, nodes_per_replica: 2, tp: 8, pp: 1 });
    expect(sglang.framework_args).toEqual(['--tp-size', '8']);
    expect(sglang.launcher_adds).toEqual([
      '--nnodes',
      '2',
      '--node-rank',
      '<rank>',
      '--dist-init-addr',
      '<head-ip>:5757',
    ]);
    const vllm = await sizeModel({ model, system: 'clariden', framework: 'vllm' }, OFFLINE);
    expect(vllm.layout).toMatchObject({ gpus_per_replica: 8, nodes_per_replica: 2, tp: 4, pp: 2 });
    expect(vllm.framework_args).toEqual(['--tensor-parallel-size', '4', '--pipeline-parallel-size', '2']);
    expect(vllm.launcher_adds).toEqual(['--distributed-executor-backend', 'ray']);
  });

  it('reports the KV figures consistently and as plain JSON matching the schema', async () => {
    const result = await sizeModel({ model: fixtureDir('deepseek-ai__DeepSeek-V3.1'), gpu: 'H200' }, OFFLINE);
    expect(result.kv_bytes_per_token).toBe(61 * 576 * 2);
    expect(result.target).toMatchObject({ system: null, gpu: 'H200-141GB', gpus_per_node: 8 });
    expect(result.kv_capacity_tokens).toBeGreaterThanOrEqual(
      result.target.context_length * result.target.concurrency,
    );
    expect(result.max_concurrency).toBeGreaterThanOrEqual(result.target.concurrency);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(SizeModelResult.parse(result)).toEqual(result);
    expect(result.explanation).toMatch(/multi-head latent attention/);
  });

  it('a context beyond the model maximum is capped with a warning, and vLLM gets --max-model-len', async () => {
    const result = await sizeModel(
      { model: fixtureDir('Qwen__Qwen3-8B'), system: 'clariden', framework: 'vllm', context_length: 100000 },
      OFFLINE,
    );
    expect(result.target.context_length).toBe(40960);
    expect(result.warnings.join(' ')).toMatch(/exceeds the model maximum \(40960 tokens\)/);
    expect(result.framework_args).toEqual(['--max-model-len', '40960']);
  });

  it('offers an fp8 KV cache and FP8 weights when they save GPUs', async () => {
    const result = await sizeModel({ model: fixtureDir('zai-org__GLM-5'), system: 'clariden' }, OFFLINE);
    expect(result.layout.nodes_per_replica).toBe(8);
    const fp8 = result.alternatives.find((a) => a.label === 'FP8 weights');
    expect(fp8?.layout.nodes_per_replica).toBe(4);
    expect(fp8?.framework_args).toEqual(['--tp-size', '16', '--quantization', 'fp8']);
    const kv = result.alternatives.find((a) => a.label === 'fp8 KV cache');
    expect(kv?.framework_args).toContain('fp8_e4m3');
    expect(kv!.kv_capacity_tokens).toBeGreaterThan(1.9 * result.kv_capacity_tokens);
  });

  it('says plainly when nothing fits within max_nodes', async () => {
    const result = await sizeModel(
      { model: fixtureDir('moonshotai__Kimi-K2-Instruct'), gpu: 'A100-40GB', max_nodes: 2 },
      OFFLINE,
    );
    expect(result.fits).toBe(false);
    expect(result.warnings.join(' ')).toMatch(/do not fit within 2 nodes/);
    expect(result.memory_per_gpu.kv_pool_bytes).toBeLessThan(0);
  });

  it('warns about fp8 checkpoints on GPUs without fp8 and about MI300A shared memory', async () => {
    const a100 = await sizeModel(
      { model: fixtureDir('MiniMaxAI__MiniMax-M2.5'), system: 'bristen' },
      OFFLINE,
    );
    expect(a100.warnings.join(' ')).toMatch(/no FP8 tensor cores/);
    const mi300a = await sizeModel({ model: fixtureDir('Qwen__Qwen3-8B'), system: 'beverin' }, OFFLINE);
    expect(mi300a.target.gpu).toBe('MI300A-128GB');
    expect(mi300a.warnings.join(' ')).toMatch(/shares its 128 GiB with the CPU/);
  });

  it('rejects bad input with stable codes', async () => {
    await expect(sizeModel({ model: '' }, OFFLINE)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      sizeModel({ model: fixtureDir('Qwen__Qwen3-8B'), system: 'nowhere' }, OFFLINE),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_SYSTEM',
    });
    await expect(
      sizeModel({ model: fixtureDir('Qwen__Qwen3-8B'), gpu: 'TPU-v9' }, OFFLINE),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(sizeModel({ model: '/no/such/model/dir' }, OFFLINE)).rejects.toBeInstanceOf(SmlError);
  });
});
