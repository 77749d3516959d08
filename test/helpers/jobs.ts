/**
 * A real job service (store, launcher, renderer) over a given Scheduler, for lifecycle tests on
 * the local cluster through any backend (SLURM CLI, SSH, FirecREST).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { render } from '../../sbatch/render.js';
import { reviewRender } from '../../sbatch/review.js';
import { loadShippedCatalog } from '../../src/catalog/catalog.js';
import { parseEnvironmentToml } from '../../src/catalog/environment.js';
import { buildLaunchSpecs, LaunchRequest, LaunchSpec, launchLayoutOf } from '../../src/domain/launch-spec.js';
import { BUILT_IN_SYSTEMS, LOCAL_CLUSTER_ROOT, type SystemProfile } from '../../src/domain/system.js';
import { Launcher } from '../../src/jobs/launcher.js';
import { JobService } from '../../src/jobs/service.js';
import { JobStore } from '../../src/jobs/store.js';
import type { Scheduler } from '../../src/scheduler/scheduler.js';

export const LOCAL_SYSTEM: SystemProfile = BUILT_IN_SYSTEMS.find((s) => s.name === 'local')!;

/** The local cluster's environment file, which tiny launches name. */
export const LOCAL_ENVIRONMENT_PATH = `${LOCAL_CLUSTER_ROOT}/env/local.toml`;

/**
 * The local test model (test/tiny) planned as a launch plans it: the request and its one spec,
 * for records written the way a launch writes them. `environmentText` is the environment file's
 * content (from the cluster, or the in-memory scheduler's copy).
 */
export function tinyLaunch(options: {
  system: SystemProfile;
  time: string;
  launchId: string;
  environmentText: string;
}): { request: LaunchRequest; spec: LaunchSpec } {
  const request = LaunchRequest.parse({
    model_path: `${LOCAL_CLUSTER_ROOT}/models/test/tiny`,
    framework: 'sglang',
    served_model_name: 'test/tiny',
    system: 'local',
    time: options.time,
  });
  const [spec] = buildLaunchSpecs(request, {
    system: options.system,
    user: 'root',
    environment: {
      clusterPath: LOCAL_ENVIRONMENT_PATH,
      file: parseEnvironmentToml(options.environmentText, LOCAL_ENVIRONMENT_PATH),
    },
    launchId: options.launchId,
  }).specs;
  return { request, spec: spec! };
}

export interface TestJobs {
  service: JobService;
  store: JobStore;
  scheduler: Scheduler;
  system: SystemProfile;
}

export async function createTestJobs(
  scheduler: Scheduler,
  system: SystemProfile = LOCAL_SYSTEM,
  options: { submitSettleMs?: number } = {},
): Promise<TestJobs> {
  const store = new JobStore(await mkdtemp(join(tmpdir(), 'sml-jobs-')));
  const resolveSystem = (name?: string) => {
    if (name !== undefined && name !== system.name) throw new Error(`unexpected system ${name}`);
    return system;
  };
  const launcher = new Launcher({
    store,
    catalog: loadShippedCatalog(),
    resolveSystem,
    schedulerFor: () => scheduler,
    localUser: () => 'root',
    render: async (spec) => render(spec),
    review: async (spec, scripts) => reviewRender(spec, scripts),
    version: 'test',
    submitSettleMs: options.submitSettleMs,
  });
  const service = new JobService({
    store,
    resolveSystem,
    schedulerFor: () => scheduler,
    launcher,
    layoutOf: (record) => launchLayoutOf(LaunchSpec.parse(record.spec)),
    pollIntervalMs: 1000,
    submitSettleMs: options.submitSettleMs,
  });
  return { service, store, scheduler, system };
}

export interface ChatAnswer {
  model: string;
  choices: { message: { content: string } }[];
}

/** One OpenAI chat completion against an endpoint base URL (…/v1). */
export async function chat(
  baseUrl: string,
  model: string,
  text = 'Say hello',
): Promise<{ status: number; body: ChatAnswer }> {
  const response = await request(`${baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: text }], max_tokens: 16 }),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const raw = await response.body.text();
  // A refused request may answer plain text; the status says so and the body is then not read.
  const body = (response.statusCode === 200 ? JSON.parse(raw) : { model: '', choices: [] }) as ChatAnswer;
  return { status: response.statusCode, body };
}
