import { describe, expect, it } from 'vitest';
import { loadShippedCatalog } from '../../src/catalog/catalog.js';
import {
  bindPreviousJob,
  buildLaunchSpecs,
  catalogEntryFor,
  environmentReferenceFor,
  LaunchRequest,
  type LaunchRequestInput,
  launchLayoutOf,
} from '../../src/domain/launch-spec.js';
import { computeTopology, placeReplicas } from '../../src/domain/layout.js';
import { BUILT_IN_SYSTEMS } from '../../src/domain/system.js';
import { thrown as errorOf } from '../helpers/errors.js';

const clariden = BUILT_IN_SYSTEMS.find((s) => s.name === 'clariden')!;
const local = BUILT_IN_SYSTEMS.find((s) => s.name === 'local')!;
const environment = {
  clusterPath: '/envs/sglang.toml',
  file: { image: '/img.sqsh', mounts: [], env: {}, annotations: {} },
};

function plan(input: LaunchRequestInput, system = clariden) {
  const request = LaunchRequest.parse(input);
  const catalogEntry = catalogEntryFor(request, loadShippedCatalog());
  return buildLaunchSpecs(request, { system, user: 'alice', environment, catalogEntry, launchId: 'abc123' });
}

describe('LaunchRequest', () => {
  it('applies defaults and describes every field', () => {
    const request = LaunchRequest.parse({ model: 'x/y' });
    expect(request).toMatchObject({ replicas: 1, router: 'opentela', consecutive: false });
    for (const [name, field] of Object.entries(LaunchRequest.shape)) {
      expect(field.description, name).toBeTruthy();
    }
  });

  it("refuses an unknown framework with SML's message, and unknown fields", () => {
    const parsed = LaunchRequest.safeParse({ model: 'x/y', framework: 'tgi' });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toBe("Unknown framework: 'tgi'. Known: sglang, vllm");
    expect(LaunchRequest.safeParse({ model: 'x/y', nodes: 2 }).success).toBe(false);
    expect(LaunchRequest.safeParse({ model_path: 'relative/path/x' }).success).toBe(false);
    expect(LaunchRequest.safeParse({ model_path: './model' }).success).toBe(false);
    expect(LaunchRequest.safeParse({ model: 'x/y', partition: 'bad partition' }).success).toBe(false);
  });
});

describe('buildLaunchSpecs', () => {
  it('resolves a catalog launch: registry path, namespaced name, catalog args and topology', () => {
    const { specs } = plan({ model: 'MiniMaxAI/MiniMax-M2', replicas: 2 });
    const spec = specs[0]!;
    expect(spec.model.path).toBe(`${clariden.modelRegistry}/MiniMaxAI/MiniMax-M2`);
    expect(spec.servedModelName).toBe('alice/MiniMaxAI/MiniMax-M2');
    expect(spec.engineArgs.slice(0, 6)).toEqual([
      '--model',
      spec.model.path,
      '--host',
      '0.0.0.0',
      '--served-model-name',
      'alice/MiniMaxAI/MiniMax-M2',
    ]);
    expect(spec.engineArgs).toContain('--tp-size');
    expect(spec.topology).toMatchObject({ nodesPerReplica: 2, totalNodes: 4, isPacked: false });
    expect(spec.jobName).toBe('sml_alice_MiniMaxAI_MiniMax-M2_abc123');
    expect(spec.jobTag).toBe('sml-mcp:abc123:0');
    expect(spec.opentela).toMatchObject({
      isEnabled: true,
      channel: 'prod',
      bootstrapAddr: clariden.opentela!.prodBootstrap,
    });
    expect(spec.metrics.isEnabled).toBe(true);
    // As SML: the CSCS systems post the launch record to SML's endpoint unless opted out.
    expect(spec.telemetry.endpoint).toBe('https://sml-dev.swissai.svc.cscs.ch/launches');
    const optedOut = plan({ model: 'MiniMaxAI/MiniMax-M2', disable_telemetry: true });
    expect(optedOut.specs[0]!.telemetry.endpoint).toBeUndefined();
    expect(optedOut.telemetry).toEqual({ endpoint: null, note: 'Not sent (disable_telemetry).' });
  });

  it('appends user args to the catalog args and rewrites a served name given there', () => {
    const spec = plan({
      model: 'swiss-ai/Apertus-8B-Instruct-2509',
      framework: 'vllm',
      framework_args: ['--max-model-len', '8192', '--served-model-name=apertus'],
    }).specs[0]!;
    expect(spec.servedModelName).toBe('alice/apertus');
    expect(spec.engineArgs).toEqual([
      '--model',
      `${clariden.modelRegistry}/swiss-ai/Apertus-8B-Instruct-2509`,
      '--host',
      '0.0.0.0',
      '--max-model-len',
      '8192',
      '--served-model-name=alice/apertus',
    ]);
  });

  it('uses the model_path of catalog entries that have one', () => {
    const spec = plan({ model: 'swiss-ai/Apertus-1.5-8B-Instruct' }).specs[0]!;
    expect(spec.model.path).toMatch(/^\/capstor\/store\/cscs\/swissai\/infra01\/models\/apertus-8b-sft-1.5/);
  });

  it('needs framework and served name for a model path launch', () => {
    expect(errorOf(() => plan({ model_path: '/m' })).message).toMatch(/No framework/);
    expect(errorOf(() => plan({ model_path: '/m', framework: 'vllm' })).message).toMatch(/served_model_name/);
    expect(errorOf(() => plan({})).message).toMatch(/neither model nor model_path/);
  });

  it('refuses the sglang router with vLLM or with one replica, saying what to do', () => {
    const withVllm = errorOf(() =>
      plan({ model_path: '/m', served_model_name: 'a/b', framework: 'vllm', replicas: 2, router: 'sglang' }),
    );
    expect(withVllm.message).toMatch(/router 'sglang' needs framework sglang/);
    expect(withVllm.hint).toMatch(/opentela/);
    const single = errorOf(() => plan({ model: 'openai/gpt-oss-120b', router: 'sglang' }));
    expect(single.message).toMatch(/replicas is 1/);
    expect(errorOf(() => plan({ model: 'openai/gpt-oss-120b', router_args: '--policy x' })).message).toMatch(
      /router_args/,
    );
  });

  it('refuses --port and other managed options in framework args', () => {
    expect(
      errorOf(() => plan({ model: 'openai/gpt-oss-120b', framework_args: '--port 9000' })).message,
    ).toMatch(/--port/);
    expect(
      errorOf(() => plan({ model: 'MiniMaxAI/MiniMax-M2', framework_args: '--nnodes 3' })).message,
    ).toMatch(/--nnodes/);
  });

  it('validates gpus_per_replica against the node', () => {
    expect(errorOf(() => plan({ model: 'openai/gpt-oss-120b', gpus_per_replica: 3 })).message).toMatch(
      /must divide/,
    );
    expect(errorOf(() => plan({ model: 'openai/gpt-oss-120b', gpus_per_replica: 8 })).hint).toMatch(
      /nodes_per_replica 2/,
    );
    expect(errorOf(() => plan({ model: 'MiniMaxAI/MiniMax-M2', gpus_per_replica: 4 })).message).toMatch(
      /whole nodes/,
    );
    const packed = plan({ model: 'openai/gpt-oss-120b', replicas: 5, gpus_per_replica: 2 }).specs[0]!;
    expect(packed.topology).toMatchObject({ replicasPerNode: 2, isPacked: true, totalNodes: 3 });
  });

  it('plans a chain with the same served name in every job and the system cap as default', () => {
    const { specs, warnings } = plan({ model: 'openai/gpt-oss-120b', time: '36:00:00', consecutive: true });
    expect(warnings).toEqual([]);
    expect(specs.map((s) => s.slurm.timeLimit)).toEqual(['12:00:00', '12:00:00', '12:00:00', '09:00:00']);
    expect(new Set(specs.map((s) => s.servedModelName)).size).toBe(1);
    expect(specs.map((s) => s.jobTag)).toEqual([0, 1, 2, 3].map((i) => `sml-mcp:abc123:${i}`));
    expect(specs[1]!.chain.previousJobId).toBeUndefined();
    expect(bindPreviousJob(specs[1]!, '77').chain.previousJobId).toBe('77');
    expect(() => bindPreviousJob(specs[0]!, '77')).toThrow(/head/);
    expect(errorOf(() => plan({ model: 'openai/gpt-oss-120b', time: '13:00:00' })).hint).toMatch(
      /consecutive: true/,
    );
    expect(errorOf(() => plan({ model: 'openai/gpt-oss-120b', time: '2 hours' })).message).toMatch(
      /'2 hours'/,
    );
  });

  it('caps the default handover at a quarter of a short max_job_time, saying so', () => {
    const { specs, warnings } = plan({
      model: 'openai/gpt-oss-120b',
      time: '02:00:00',
      max_job_time: '01:00:00',
      consecutive: true,
    });
    // interval = 60 − 15 minutes
    expect(specs.map((s) => s.chain.offsetSeconds / 60)).toEqual([0, 45, 90]);
    expect(specs[1]!.chain.dependencyDelayMinutes).toBe(45);
    expect(warnings.join('\n')).toMatch(/handover_time defaults to 03:00:00.*using 00:15:00/);
  });

  it('handles OpenTela switches: disabled, dev channel, explicit bootstrap wins over dev', () => {
    expect(plan({ model: 'openai/gpt-oss-120b', disable_opentela: true }).specs[0]!.opentela.isEnabled).toBe(
      false,
    );
    const dev = plan({ model: 'openai/gpt-oss-120b', dev: true }).specs[0]!;
    expect(dev.opentela).toMatchObject({ channel: 'dev', bootstrapAddr: clariden.opentela!.devBootstrap });
    const both = plan({
      model: 'openai/gpt-oss-120b',
      dev: true,
      opentela_bootstrap_addr: '/ip4/1.2.3.4/tcp/1/p2p/Qm',
    });
    expect(both.specs[0]!.opentela).toMatchObject({
      channel: 'prod',
      bootstrapAddr: '/ip4/1.2.3.4/tcp/1/p2p/Qm',
    });
    expect(both.warnings).toContain('dev ignored because opentela_bootstrap_addr was given.');
  });

  it('has no metrics where the system has none, and telemetry only with an endpoint', () => {
    const spec = plan({ model: 'openai/gpt-oss-120b', telemetry_endpoint: 'https://t.example/x' }, local)
      .specs[0]!;
    expect(spec.metrics.isEnabled).toBe(false);
    expect(spec.telemetry.endpoint).toBe('https://t.example/x');
    expect(spec.model.path).toBe('/opt/sml-local/models/openai/gpt-oss-120b');
  });

  it('picks the environment: request, catalog entry, then the system default', () => {
    const kimi = LaunchRequest.parse({ model: 'moonshotai/Kimi-K2.5' });
    const entry = catalogEntryFor(kimi, loadShippedCatalog());
    expect(environmentReferenceFor(kimi, entry, clariden)).toBe('sglang_kimi.toml');
    const gemma = LaunchRequest.parse({ model: 'google/gemma-3-27b-it' });
    expect(environmentReferenceFor(gemma, catalogEntryFor(gemma, loadShippedCatalog()), clariden)).toBe(
      'vllm.toml',
    );
    const own = LaunchRequest.parse({ model: 'google/gemma-3-27b-it', environment: '/my/env.toml' });
    expect(environmentReferenceFor(own, undefined, clariden)).toBe('/my/env.toml');
  });
});

describe('layout, ports and endpoints', () => {
  it('packs replicas on nodes with their own GPUs and ports', () => {
    const topology = computeTopology({ replicas: 5, nodesPerReplica: 1, gpusPerReplica: 2, gpusPerNode: 4 });
    expect(placeReplicas(topology)).toEqual([
      { replica: 0, headNodeIndex: 0, slot: 0, port: 8080, devices: [0, 1] },
      { replica: 1, headNodeIndex: 0, slot: 1, port: 8081, devices: [2, 3] },
      { replica: 2, headNodeIndex: 1, slot: 0, port: 8080, devices: [0, 1] },
      { replica: 3, headNodeIndex: 1, slot: 1, port: 8081, devices: [2, 3] },
      { replica: 4, headNodeIndex: 2, slot: 0, port: 8080, devices: [0, 1] },
    ]);
    const multiNode = computeTopology({ replicas: 2, nodesPerReplica: 2, gpusPerNode: 4 });
    expect(placeReplicas(multiNode).map((p) => p.headNodeIndex)).toEqual([0, 2]);
  });

  it('exposes a layout for status readers', () => {
    const spec = plan({ model: 'openai/gpt-oss-120b', replicas: 2, gpus_per_replica: 2, router: 'sglang' })
      .specs[0]!;
    expect(launchLayoutOf(spec)).toMatchObject({
      replicaPorts: [8080, 8081],
      routerPort: 30000,
      isOpentelaEnabled: true,
      logFiles: expect.arrayContaining([
        'log.out',
        'replica_1.err',
        'router.out',
        'replica_health_checker.log',
      ]),
    });
    const twoNodes = plan({ model: 'MiniMaxAI/MiniMax-M2' }).specs[0]!;
    expect(launchLayoutOf(twoNodes).logFiles).toContain('replica_0_node1.err');
  });
});

describe("SML's meanings of framework args, Hub models and defaults", () => {
  it('takes the model from --model, --model-path or vLLM positional, as SML passes them to the engine', () => {
    for (const args of [
      '--model /capstor/m/x --served-model-name v/x',
      '--model-path=/capstor/m/x --served-model-name v/x',
    ]) {
      const spec = plan({ framework: 'sglang', framework_args: args }).specs[0]!;
      expect(spec.model.path).toBe('/capstor/m/x');
      expect(spec.engineArgs.filter((a) => a === '--model' || a.startsWith('--model-path'))).toEqual([
        '--model',
      ]);
    }
    const positional = plan({ framework: 'vllm', framework_args: '/capstor/m/y --served-model-name v/y' });
    expect(positional.specs[0]!.engineArgs.slice(0, 2)).toEqual(['--model', '/capstor/m/y']);
    expect(
      errorOf(() => plan({ framework: 'vllm', model_path: '/a', framework_args: '--model /b' })).message,
    ).toMatch(/model_path is '\/a' but framework_args names the model '\/b'/);
    expect(
      errorOf(() => plan({ framework: 'vllm', framework_args: '--model /a --model /b' })).message,
    ).toMatch(/two models/);
  });

  it('accepts --port 8080 with a warning and drops it; refuses any other port', () => {
    const { specs, warnings } = plan({ model: 'openai/gpt-oss-120b', framework_args: '--port 8080' });
    expect(specs[0]!.engineArgs).not.toContain('--port');
    expect(warnings.join('\n')).toMatch(/--port 8080.*dropped/);
    expect(
      errorOf(() => plan({ model: 'openai/gpt-oss-120b', framework_args: '--port=9000' })).message,
    ).toMatch(/framework_args contains --port/);
    // Replicas that share a node each have their own port: a fixed --port cannot be honoured.
    expect(
      errorOf(() =>
        plan({
          model: 'openai/gpt-oss-120b',
          replicas: 2,
          gpus_per_replica: 2,
          framework_args: '--port 8080',
        }),
      ).message,
    ).toMatch(/--port/);
  });

  it('serves a Hugging Face repo id: downloaded on the node, named after the repo by default', () => {
    const viaArgs = plan({ framework: 'vllm', framework_args: '--model swiss-ai/Apertus-v1.5-8B' }).specs[0]!;
    expect(viaArgs.model.path).toBe('swiss-ai/Apertus-v1.5-8B');
    expect(viaArgs.huggingFace).toEqual({ repoId: 'swiss-ai/Apertus-v1.5-8B', home: undefined });
    expect(viaArgs.servedModelName).toBe('alice/swiss-ai/Apertus-v1.5-8B');
    const withHome = plan({ framework: 'sglang', model_path: 'Qwen/Qwen3-8B', hf_home: '$SCRATCH/hf' });
    expect(withHome.specs[0]!.huggingFace).toEqual({ repoId: 'Qwen/Qwen3-8B', home: '$SCRATCH/hf' });
    // A folder on the cluster is not downloaded.
    expect(
      plan({ framework: 'sglang', model_path: '/m', served_model_name: 'v/m' }).specs[0]!.huggingFace,
    ).toBe(undefined);
    expect(
      errorOf(() => plan({ framework: 'sglang', model_path: 'Qwen/Qwen3-8B', hf_home: '$(pwd)/hf' })).message,
    ).toMatch(/hf_home contains \$\(pwd\)/);
  });

  it('defaults the time as SML: 03:00:00 from the catalog, 02:00:00 otherwise; handover 03:00:00', () => {
    expect(plan({ model: 'openai/gpt-oss-120b' }).specs[0]!.slurm.timeLimit).toBe('03:00:00');
    expect(
      plan({ framework: 'vllm', model_path: '/m', served_model_name: 'v/m' }).specs[0]!.slurm.timeLimit,
    ).toBe('02:00:00');
    const chain = plan({ model: 'openai/gpt-oss-120b', time: '30:00:00', consecutive: true }).specs;
    // 12 h jobs overlapping by 3 h start 9 h apart.
    expect(chain.map((s) => s.chain.offsetSeconds / 3600)).toEqual([0, 9, 18]);
  });
});
