import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { expect, onTestFinished } from 'vitest';
import { type BuildDepsOptions, buildServerDeps } from '../../server/build-deps.js';
import { connectInProcessClient } from '../../server/client.js';
import { createSystems, resolveSystem } from '../../server/systems.js';
import { loadConfig, type ResolvedConfig } from '../../src/config/load.js';
import { JOB_TAG_PREFIX } from '../../src/domain/job-name.js';
import { JobStore } from '../../src/jobs/store.js';
import type { Scheduler } from '../../src/scheduler/scheduler.js';
import type { ServerDeps } from '../../src/services.js';
import { InMemoryScheduler, type JobProgram } from '../doubles/scheduler/index.js';
import { seedLocalCluster } from '../doubles/scheduler/local-cluster.js';
import { LOCAL_ENVIRONMENT_PATH, tinyLaunch } from '../helpers/jobs.js';

/**
 * The MCP protocol tests run the real server over the real job service through the SDK's own
 * Client in memory. The "local" system is an in-memory scheduler seeded like the local cluster
 * (fast tier), or the real local SLURM cluster of test/cluster with `onCluster: true` (cluster tier).
 */

const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** The variables of test/cluster/env.sh (SLURM_CONF and friends). */
export function clusterEnv(): Record<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'test', 'cluster', 'env.sh'), 'utf8');
  const env: Record<string, string> = {};
  for (const match of text.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) {
    const raw = match[2]!.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
    env[match[1]!] = raw.replace(/\$\{?([A-Z_]+)\}?/g, (_, name: string) => env[name] ?? '');
  }
  return env;
}

export interface Harness {
  dir: string;
  config: ResolvedConfig;
  deps: ServerDeps;
  /** The scheduler of the "local" system. */
  scheduler: Scheduler;
  /** The same scheduler when it is the in-memory one (undefined on the cluster). */
  memory?: InMemoryScheduler;
  cleanup(): void;
}

export interface HarnessOptions extends BuildDepsOptions {
  /** Extra environment for the configuration (secrets, SML_* defaults). */
  env?: Record<string, string>;
  /** Content of the config file. */
  configFile?: unknown;
  /** Leave the default system unset (the "nothing configured" state). */
  isUnconfigured?: boolean;
  /** Run the "local" system on the real local SLURM cluster (cluster tier) instead of in memory. */
  onCluster?: boolean;
  /** With onCluster: the environment of the SLURM commands (default test/cluster/env.sh's). */
  slurmEnv?: Record<string, string>;
  /** The in-memory scheduler to use for "local" (default: a new one seeded like the local cluster). */
  memory?: InMemoryScheduler;
}

export function createHarness(options: HarnessOptions = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'sml-mcp-test-'));
  mkdirSync(join(dir, 'work'), { recursive: true });
  if (options.configFile !== undefined)
    writeFileSync(join(dir, 'mcp.json'), JSON.stringify(options.configFile));
  const config = loadConfig({
    env: {
      HOME: dir,
      SML_CONFIG_DIR: dir,
      ...(options.isUnconfigured ? {} : { SML_SYSTEM: 'local' }),
      ...options.env,
    },
  });
  const slurmEnv = options.onCluster ? (options.slurmEnv ?? clusterEnv()) : undefined;
  const memory = options.onCluster ? undefined : (options.memory ?? seededScheduler());
  const configured = createSystems(config, { slurmEnv });
  const deps = buildServerDeps(config, {
    systems: memory
      ? {
          profiles: configured.profiles,
          schedulerFor: (profile) => (profile.name === 'local' ? memory : configured.schedulerFor(profile)),
        }
      : configured,
    watchIntervalMs: 300,
    pollIntervalMs: 300,
    // In memory a job's state changes between two calls; status sweeps are shared only while in flight.
    statusSweepTtlMs: 0,
    // Tests never reach out to the Hugging Face Hub: configs come from the local model registry.
    hub: false,
    ...options,
  });
  const scheduler = deps.systems.schedulerFor(resolveSystem(config, 'local'));
  return {
    dir,
    config,
    deps,
    scheduler,
    memory,
    cleanup: () => {
      memory?.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An in-memory scheduler holding what the local cluster has under /opt/sml-local. */
export function seededScheduler(): InMemoryScheduler {
  const scheduler = new InMemoryScheduler();
  seedLocalCluster(scheduler);
  return scheduler;
}

export async function connect(deps: ServerDeps, capabilities: ClientCapabilities = {}): Promise<Client> {
  return connectInProcessClient(deps, { name: 'sml-mcp-test', capabilities });
}

export interface RecordedJobOptions {
  /** Lines the job appends to log.out, one per `intervalS`. */
  lines?: number;
  intervalS?: number;
  /** Extra text the job prints into log.out first. */
  banner?: string;
  /** Exit status of the job script (non-zero: the job FAILED). */
  exitCode?: number;
  /** Submit without a local record and without the sml-mcp tag (a job someone else launched). */
  isForeign?: boolean;
}

/**
 * Submit a small job through the real scheduler and record it in the job store the way a launch
 * does (a real LaunchSpec of the local system), so status, logs and cancel see an sml-mcp job.
 */
export async function submitRecordedJob(harness: Harness, options: RecordedJobOptions = {}): Promise<string> {
  const launchId = `t${Math.random().toString(36).slice(2, 12)}`;
  const workingDir = join(harness.dir, 'work');
  const lines = options.lines ?? 3;
  const intervalS = options.intervalS ?? 1;
  const tag = options.isForeign ? 'someone-else' : `${JOB_TAG_PREFIX}${launchId}:0`;
  const banner = options.banner ? `echo ${JSON.stringify(options.banner)} >> "$dir/log.out"\n` : '';
  const script = [
    '#!/bin/bash',
    `#SBATCH --job-name=sml_test_${launchId}`,
    `#SBATCH --output=${workingDir}/slurm-%j.out`,
    '#SBATCH --time=00:10:00',
    `#SBATCH --comment=${tag}`,
    `dir=${workingDir}/logs/$SLURM_JOB_ID`,
    'mkdir -p "$dir"',
    `${banner}for i in $(seq 1 ${lines}); do echo "line $i" >> "$dir/log.out"; sleep ${intervalS}; done`,
    `exit ${options.exitCode ?? 0}`,
    '',
  ].join('\n');
  harness.memory?.programs.set(tag, recordedJobProgram(options));
  const { jobId } = await harness.scheduler.submit({
    script,
    scriptPath: join(workingDir, `job_${launchId}.sh`),
    workingDir,
    tag,
  });
  if (options.isForeign) return jobId;

  const { request, spec } = tinyLaunch({
    system: resolveSystem(harness.config, 'local'),
    time: '00:10:00',
    launchId,
    environmentText:
      harness.memory?.fileText(LOCAL_ENVIRONMENT_PATH) ?? readFileSync(LOCAL_ENVIRONMENT_PATH, 'utf8'),
  });
  await new JobStore(harness.config.stateDir).create({
    launch_id: launchId,
    created_at: new Date().toISOString(),
    system: 'local',
    user: 'root',
    served_model_name: spec.servedModelName,
    framework: 'sglang',
    working_dir: workingDir,
    spec: spec as unknown as Record<string, unknown>,
    request: request as unknown as Record<string, unknown>,
    jobs: [
      { index: 0, tag, job_id: jobId, state: 'submitted', scripts: { 'master.sh': script }, runs: 'now' },
    ],
    warnings: [],
  });
  return jobId;
}

/** What the script of submitRecordedJob does, for the in-memory scheduler. */
function recordedJobProgram(options: RecordedJobOptions): JobProgram {
  return async (run) => {
    const log = `${run.logDir}/log.out`;
    if (options.banner) run.append(log, `${options.banner}\n`);
    for (let i = 1; i <= (options.lines ?? 3); i++) {
      run.append(log, `line ${i}\n`);
      await run.sleep((options.intervalS ?? 1) * 1000);
    }
    return options.exitCode ?? 0;
  };
}

/** A recorded job that is cancelled as soon as the current test finishes, so the cluster stays free. */
export async function submitTestJob(harness: Harness, options: RecordedJobOptions = {}): Promise<string> {
  const jobId = await submitRecordedJob(harness, options);
  onTestFinished(async () => {
    await harness.scheduler.cancel(jobId).catch(() => undefined);
  });
  return jobId;
}

/** Wait until a job ended; the cluster may be busy with other tests, so the wait is generous. */
export async function waitUntilEnded(client: Client, jobId: string): Promise<void> {
  const result = await client.callTool(
    { name: 'status', arguments: { job_ids: [jobId], wait_until: 'ended', timeout_s: 240 } },
    undefined,
    { timeout: 260_000 },
  );
  expect((expectToolSuccess(result).wait as { reached: boolean }).reached).toBe(true);
}

/** The text of a tool result's first content item. */
export function textOf(result: unknown): string {
  const first = ((result as CallToolResult).content as { type: string; text?: string }[] | undefined)?.[0];
  return first?.type === 'text' ? (first.text ?? '') : '';
}

export function expectToolError(outcome: unknown, code: string): void {
  const result = outcome as CallToolResult;
  expect(result.isError, `expected an error result, got ${JSON.stringify(result).slice(0, 400)}`).toBe(true);
  expect(result.structuredContent).toBeUndefined();
  expect(textOf(result)).toMatch(new RegExp(`^\\[${code}\\] `));
}

export function expectToolSuccess(outcome: unknown): Record<string, unknown> {
  const result = outcome as CallToolResult;
  expect(result.isError, `expected success, got ${textOf(result)}`).toBeFalsy();
  expect(result.structuredContent).toBeDefined();
  return result.structuredContent as Record<string, unknown>;
}

/** Poll until `check` returns a value or the deadline passes (behaviour, not timing, is asserted). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface LifecycleOutcome {
  jobId: string;
  servedModelName: string;
  endpoint: string;
  logText: string;
}

/**
 * launch → status (wait until serving) → logs → cancel through any connected client, on the
 * local cluster with the stand-in engines.
 */
export async function runLifecycle(client: Client, idempotencyKey: string): Promise<LifecycleOutcome> {
  const launchResult = await client.callTool({
    name: 'launch',
    arguments: {
      model: 'swiss-ai/Apertus-8B-Instruct-2509',
      framework: 'sglang',
      system: 'local',
      time: '00:15:00',
      idempotency_key: idempotencyKey,
    },
  });
  const launched = expectToolSuccess(launchResult);
  const jobId = (launched.job_ids as string[])[0]!;
  expect(jobId).toMatch(/^\d+$/);
  const links = (launchResult.content as { type: string; uri?: string }[]).filter(
    (c) => c.type === 'resource_link',
  );
  expect(links.map((link) => link.uri)).toEqual(launched.resource_uris);
  expect(links.length).toBeGreaterThan(0);
  try {
    let serving: Record<string, unknown> | undefined;
    // Up to 10 minutes: an exclusive node may only free up once other tests' jobs end.
    for (let round = 0; round < 24 && !serving; round++) {
      const waited = expectToolSuccess(
        await client.callTool(
          { name: 'status', arguments: { job_ids: [jobId], wait_until: 'serving', timeout_s: 25 } },
          undefined,
          { timeout: 60_000 },
        ),
      );
      const job = (waited.jobs as Record<string, unknown>[])[0]!;
      expect(job.phase, JSON.stringify(job.failure_hint)).not.toBe('ended');
      if ((waited.wait as { reached: boolean }).reached) serving = job;
    }
    expect(serving, 'the job never reached serving').toBeDefined();
    const endpoint = (serving!.endpoints as { url: string }[])[0]!.url;
    const metrics = await client.readResource({ uri: `sml://jobs/${jobId}/metrics` });
    const snapshot = JSON.parse(String((metrics.contents[0] as { text?: string }).text)) as {
      replicas: { reachable: boolean }[];
    };
    expect(snapshot.replicas[0]?.reachable).toBe(true);
    const logs = expectToolSuccess(
      await client.callTool({
        name: 'logs',
        arguments: { job_id: jobId, file: 'replica_0.out', tail_lines: 50 },
      }),
    );
    return {
      jobId,
      servedModelName: launched.served_model_name as string,
      endpoint,
      logText: logs.text as string,
    };
  } finally {
    const cancelled = expectToolSuccess(
      await client.callTool({ name: 'cancel', arguments: { job_id: jobId, confirm: true } }),
    );
    expect(cancelled.outcome).toBe('cancelled');
  }
}
