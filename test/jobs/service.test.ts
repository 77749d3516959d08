import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmlError } from '../../src/errors.js';
import type { JobRun } from '../doubles/scheduler/index.js';
import { createHarness, eventually, type Harness } from '../mcp/harness.js';

/**
 * The job service over the real launcher and the in-memory scheduler: the lifecycle a user sees
 * (queued → starting → serving → degraded → ended) comes from SLURM's state and the in-job health
 * report, endpoints from the report (engines answering over HTTP: test/e2e on the cluster).
 */
let harness: Harness;

beforeAll(() => {
  harness = createHarness();
});

afterAll(() => harness.cleanup());

type Health = 'HEALTHY' | 'NOT_RESPONDING';

/** What sml-mcp's health checker writes: one entry per replica, on the job's nodes. */
function writeReport(run: JobRun, health: Health[], lastSeen: (number | null)[] = health.map(() => 1)): void {
  run.write(
    `${run.logDir}/replica_health.json`,
    JSON.stringify({
      checked_at: Date.now() / 1000,
      replicas: health.map((h, replica) => ({
        replica,
        node_host: run.nodes[replica] ?? null,
        node_ip: `10.77.0.${11 + replica}`,
        port: 8080,
        health: h,
        last_seen: lastSeen[replica],
      })),
    }),
  );
}

async function launch(extra: Record<string, unknown> = {}): Promise<string> {
  const result = await harness.deps.jobs.launch({
    model: 'swiss-ai/Apertus-8B-Instruct-2509',
    framework: 'sglang',
    system: 'local',
    time: '00:10:00',
    ...extra,
  });
  return result.job_ids[0]!;
}

async function phaseOf(jobId: string): Promise<string> {
  return (await harness.deps.jobs.status([jobId]))[0]!.phase;
}

describe('job service', () => {
  it('goes queued → starting → serving → degraded as SLURM and the health report say, with endpoints', async () => {
    const memory = harness.memory!;
    memory.isQueueHeld = true;
    let run!: JobRun;
    memory.defaultProgram = (r) => {
      run = r;
      return new Promise((resolve) => r.signal.addEventListener('abort', () => resolve(undefined)));
    };
    const jobId = await launch({ replicas: 2, router: 'sglang' });
    expect(await phaseOf(jobId)).toBe('queued');
    memory.releaseQueue();
    await eventually(async () => ((await phaseOf(jobId)) === 'starting' ? true : undefined));

    writeReport(run, ['HEALTHY', 'NOT_RESPONDING'], [1, null]);
    expect(await phaseOf(jobId)).toBe('starting');
    writeReport(run, ['HEALTHY', 'HEALTHY']);
    const [serving] = await harness.deps.jobs.status([jobId]);
    expect(serving).toMatchObject({ phase: 'serving', replicas_healthy: 2, replicas_expected: 2 });
    expect(serving!.endpoints).toEqual([
      { kind: 'replica', replica: 0, url: 'http://10.77.0.11:8080/v1' },
      { kind: 'replica', replica: 1, url: 'http://10.77.0.12:8080/v1' },
      { kind: 'router', url: 'http://10.77.0.11:30000/v1' },
    ]);

    writeReport(run, ['HEALTHY', 'NOT_RESPONDING']);
    expect(await phaseOf(jobId)).toBe('degraded');
    await harness.deps.jobs.cancel(jobId);
    expect((await harness.deps.jobs.status([jobId]))[0]).toMatchObject({
      phase: 'ended',
      end_reason: 'cancelled',
      endpoints: [],
    });
  });

  it('turns only node addresses of the job into endpoints: the report is a file the job writes', async () => {
    const memory = harness.memory!;
    let run!: JobRun;
    memory.defaultProgram = (r) => {
      run = r;
      return new Promise((resolve) => r.signal.addEventListener('abort', () => resolve(undefined)));
    };
    const jobId = await launch({ replicas: 4 });
    await eventually(async () => ((await phaseOf(jobId)) === 'starting' ? true : undefined));
    const entries = [
      { node_host: run.nodes[0], node_ip: 'evil.example/steal?x=' },
      { node_host: run.nodes[0], node_ip: '169.254.169.254' },
      { node_host: 'not-a-node-of-this-job', node_ip: '10.77.0.99' },
      { node_host: run.nodes[0], node_ip: '10.77.0.11', port: '8080/../../admin' },
    ];
    run.write(
      `${run.logDir}/replica_health.json`,
      JSON.stringify({
        checked_at: Date.now() / 1000,
        replicas: entries.map((entry, replica) => ({ replica, health: 'HEALTHY', last_seen: 1, ...entry })),
      }),
    );
    const [status] = await harness.deps.jobs.status([jobId]);
    expect(status!.replicas_healthy).toBe(4);
    expect(status!.endpoints).toEqual([{ kind: 'replica', replica: 3, url: 'http://10.77.0.11:8080/v1' }]);
    await harness.deps.jobs.cancel(jobId);
  });

  it('ends with the reason SLURM gives and a hint read from the error logs', async () => {
    const memory = harness.memory!;
    memory.defaultProgram = async (r) => {
      r.append(
        `${r.logDir}/replica_0.err`,
        'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n',
      );
      return 1;
    };
    const jobId = await launch();
    const ended = await harness.deps.jobs.waitFor([jobId], 'ended', { timeoutS: 20 });
    expect(ended.reached).toBe(true);
    expect(ended.statuses[0]).toMatchObject({ phase: 'ended', end_reason: 'failed', slurm_state: 'FAILED' });
    expect(ended.statuses[0]!.failure_hint?.signature).toBe('gpu_oom');
  });

  it('a job SLURM ends from outside (NODE_FAIL) ends as node_fail', async () => {
    const memory = harness.memory!;
    memory.defaultProgram = (r) =>
      new Promise((resolve) => r.signal.addEventListener('abort', () => resolve(undefined)));
    const jobId = await launch();
    await eventually(async () => ((await phaseOf(jobId)) === 'starting' ? true : undefined));
    memory.end(jobId, 'NODE_FAIL');
    expect((await harness.deps.jobs.status([jobId]))[0]).toMatchObject({
      phase: 'ended',
      end_reason: 'node_fail',
    });
  });

  it('shows no pending reason once a job left the queue, but keeps how it ended', async () => {
    const memory = harness.memory!;
    memory.defaultProgram = (r) =>
      new Promise((resolve) => r.signal.addEventListener('abort', () => resolve(undefined)));
    const stale = await launch();
    memory.end(stale, 'FAILED', { exitCode: '1:0', reason: 'Resources' });
    expect((await harness.deps.jobs.status([stale]))[0]).toMatchObject({
      phase: 'ended',
      slurm_reason: null,
    });
    const told = await launch();
    memory.end(told, 'FAILED', { exitCode: '1:0', reason: 'NonZeroExitCode' });
    expect((await harness.deps.jobs.status([told]))[0]!.slurm_reason).toBe('NonZeroExitCode');
  });

  it('cancels a whole chain, later jobs first', async () => {
    const memory = harness.memory!;
    const launched = await harness.deps.jobs.launch({
      model: 'swiss-ai/Apertus-8B-Instruct-2509',
      framework: 'sglang',
      system: 'local',
      time: '30:00:00',
      consecutive: true,
    });
    expect(launched.job_ids.length).toBeGreaterThan(1);
    const successor = memory.job(launched.job_ids[1]!);
    expect(successor.reason).toBe('Dependency');
    expect(successor.request!.script).toContain(`--dependency=after:${launched.job_ids[0]}+`);
    const callsBefore = memory.calls.length;
    const results = await harness.deps.jobs.cancel(launched.job_ids[0]!);
    expect(results.map((r) => r.job_id)).toEqual(launched.job_ids);
    const cancelled = memory.calls
      .slice(callsBefore)
      .filter((c) => c.method === 'cancel')
      .map((c) => c.args[0]);
    expect(cancelled).toEqual([...launched.job_ids].reverse());
  });

  it('stops a wait at once when the caller aborts while the scheduler does not answer', async () => {
    const memory = harness.memory!;
    memory.defaultProgram = (r) =>
      new Promise((resolve) => r.signal.addEventListener('abort', () => resolve(undefined)));
    const jobId = await launch();
    memory.failNext(
      'statuses',
      new SmlError('SCHEDULER_UNREACHABLE', 'squeue: Unable to contact slurm controller'),
    );
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const waited = harness.deps.jobs.waitFor([jobId], 'serving', { timeoutS: 5, signal: controller.signal });
    await expect(waited).rejects.toMatchObject({ code: 'CANCELLED' });
    memory.clearFaults();
    await harness.deps.jobs.cancel(jobId);
  });
});
