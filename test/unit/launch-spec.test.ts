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
import { SmlError } from '../../src/errors.js';

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

function errorOf(fn: () => unknown): SmlError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SmlError) return error;
    throw error;
  }
  throw new Error('expected an SmlError');
}

describe('LaunchRequest', () => {
  it('applies defaults and describes every field', () => {
    const request = LaunchRequest.parse({ model: 'x/y' });
    expect(request).toMatchObject({ replicas: 1, time: '02:00:00', router: 'opentela', consecutive: false });
    for (const [name, field] of Object.entries(LaunchRequest.shape)) {
      expect(field.description, name).toBeTruthy();
    }
  });

  it("refuses an unknown framework with SML's message, and unknown fields", () => {
    const parsed = LaunchRequest.safeParse({ model: 'x/y', framework: 'tgi' });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]!.message).toBe("Unknown framework: 'tgi'. Known: sglang, vllm");
    expect(LaunchRequest.safeParse({ model: 'x/y', nodes: 2 }).success).toBe(false);
    expect(LaunchRequest.safeParse({ model_path: 'relative/path' }).success).toBe(false);
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
    expect(spec.telemetry.endpoint).toBeUndefined();
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

  it('caps the default handover at a quarter of a short max_job_time', () => {
    const { specs } = plan({
      model: 'openai/gpt-oss-120b',
      time: '02:00:00',
      max_job_time: '01:00:00',
      consecutive: true,
    });
    // interval = 60 − 15 minutes
    expect(specs.map((s) => s.chain.offsetSeconds / 60)).toEqual([0, 45, 90]);
    expect(specs[1]!.chain.dependencyDelayMinutes).toBe(45);
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
