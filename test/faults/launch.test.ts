/**
 * Launch safety under scheduler faults, on the local cluster: a launch whose sbatch answer is lost
 * (controller paused, answer dropped) or whose process dies mid-submit is one job or none, never
 * two, and a retry with the same idempotency key returns that job (or launches once it surely
 * never queued).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, expect, it } from 'vitest';
import type { SmlError } from '../../src/errors.js';
import { JobStore } from '../../src/jobs/store.js';
import type { Scheduler } from '../../src/scheduler/scheduler.js';
import { type ClusterRunner, createSlurmScheduler, LocalRunner } from '../../src/scheduler/slurm/index.js';
import { CLI } from '../helpers/cli.js';
import { clusterEnv, describeOnCluster, waitFor } from '../helpers/cluster.js';
import { rejection } from '../helpers/errors.js';
import { createTestJobs } from '../helpers/jobs.js';
import { createHarness, clusterEnv as harnessEnv } from '../mcp/harness.js';
import { pauseDaemon } from './daemons.js';
import { deadProcessOwner, LOCAL_LAUNCH, launchRecord, retryUntilKnown } from './records.js';

const launched: { scheduler: Scheduler; jobId: string }[] = [];

afterAll(async () => {
  for (const { scheduler, jobId } of launched) await scheduler.cancel(jobId).catch(() => undefined);
});

/** Every job SLURM lists under the tags of these launches. */
async function jobsOfLaunches(scheduler: Scheduler, launchIds: Iterable<string>): Promise<string[]> {
  const ids = new Set<string>();
  for (const launchId of new Set(launchIds)) {
    for (const job of await scheduler.findTaggedJobs(`sml-mcp:${launchId}:`)) ids.add(job.jobId);
  }
  return [...ids].sort();
}

function remember(scheduler: Scheduler, jobIds: readonly string[]): void {
  for (const jobId of jobIds) launched.push({ scheduler, jobId });
}

describeOnCluster('a launch whose sbatch answer is lost', () => {
  it('with slurmctld paused: the launch is ambiguous, the key is kept, and retries give one job', {
    timeout: 120_000,
  }, async () => {
    // Short timeouts for squeue/sacct so the tag look-ups fail fast while the controller is frozen;
    // sbatch keeps its own (it gives up after SLURM's MessageTimeout with "Socket timed out").
    const scheduler = createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv(), timeoutMs: 3000 });
    const jobs = await createTestJobs(scheduler, undefined, { submitSettleMs: 2000 });
    await scheduler.workingDir();
    const key = `paused-${Date.now()}`;
    let failure: SmlError;
    const resume = pauseDaemon('slurmctld');
    try {
      failure = await rejection(jobs.service.launch(LOCAL_LAUNCH, { idempotencyKey: key }));
    } finally {
      resume();
    }
    expect(failure.code).toBe('SUBMIT_FAILED');
    expect(failure.isAmbiguous).toBe(true);
    expect(failure.message).toMatch(/Socket timed out|did not finish/);
    expect(failure.hint).toMatch(/same idempotency_key/);
    const [first] = await jobs.store.list();
    expect(first!.jobs[0]!.state).toBe('ambiguous');

    const retried = await retryUntilKnown(jobs.service, key);
    remember(jobs.scheduler, retried.job_ids);
    expect(retried.job_ids).toHaveLength(1);
    const all = await jobsOfLaunches(scheduler, [first!.launch_id, retried.launch_id]);
    expect(all).toEqual(retried.job_ids);
    const again = await jobs.service.launch(LOCAL_LAUNCH, { idempotencyKey: key });
    expect(again).toMatchObject({ replayed: true, job_ids: retried.job_ids });
  });

  it('when sbatch queued the job but its answer says "Socket timed out", the launch finds it by tag', async () => {
    // The answer is dropped after the real sbatch ran: exactly the controller's reply getting lost.
    const dropAnswer = (runner: ClusterRunner): ClusterRunner =>
      Object.assign(Object.create(runner) as ClusterRunner, {
        run: async (argv: readonly string[], options?: Parameters<ClusterRunner['run']>[1]) => {
          const result = await runner.run(argv, options);
          if (argv[0] !== 'sbatch') return result;
          return {
            ...result,
            exitCode: 1,
            stdout: Buffer.from(''),
            stderr: 'sbatch: error: Batch job submission failed: Socket timed out on send/recv operation\n',
          };
        },
      });
    const scheduler = createSlurmScheduler(
      { kind: 'slurm' },
      { runner: dropAnswer(new LocalRunner({ env: clusterEnv() })) },
    );
    const jobs = await createTestJobs(scheduler);
    const key = `dropped-${Date.now()}`;
    const result = await jobs.service.launch(LOCAL_LAUNCH, { idempotencyKey: key });
    remember(jobs.scheduler, result.job_ids);
    expect(result.job_ids).toHaveLength(1);
    expect(await jobsOfLaunches(scheduler, [result.launch_id])).toEqual(result.job_ids);
    expect(await jobs.service.launch(LOCAL_LAUNCH, { idempotencyKey: key })).toMatchObject({
      replayed: true,
      job_ids: result.job_ids,
    });
  });
});

describeOnCluster('a launch stranded by a process that died', () => {
  it('a server killed while sbatch runs leaves a record that the next retry resolves to its one job', {
    timeout: 120_000,
  }, async () => {
    const harness = createHarness({ onCluster: true, submitSettleMs: 5000 });
    const store = new JobStore(harness.config.stateDir);
    const key = `killed-${Date.now()}`;
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'serve'],
      env: {
        ...harnessEnv(),
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: harness.dir,
        SML_CONFIG_DIR: harness.dir,
        SML_SYSTEM: 'local',
      },
      stderr: 'ignore',
    });
    const client = new Client({ name: 'killed-mid-launch', version: '0' });
    await client.connect(transport);
    let strandedId: string | undefined;
    // Frozen, the controller keeps sbatch waiting: the server is killed with its submit in flight.
    const resume = pauseDaemon('slurmctld');
    try {
      void client
        .callTool({ name: 'launch', arguments: { ...LOCAL_LAUNCH, idempotency_key: key } })
        .catch(() => undefined);
      const stranded = await waitFor(
        async () => (await store.list()).find((r) => r.jobs[0]?.state === 'submitting'),
        { timeoutMs: 30_000, intervalMs: 100, what: 'the server to start submitting' },
      );
      strandedId = stranded.launch_id;
      expect(stranded.owner?.pid).toBe(transport.pid);
      process.kill(transport.pid!, 'SIGKILL');
    } finally {
      resume();
    }
    await client.close().catch(() => undefined);
    expect((await store.get(strandedId))?.jobs[0]?.state).toBe('submitting');

    const retried = await retryUntilKnown(harness.deps.jobs, key);
    remember(harness.scheduler, retried.job_ids);
    expect(retried.job_ids).toHaveLength(1);
    expect(await jobsOfLaunches(harness.scheduler, [strandedId, retried.launch_id])).toEqual(retried.job_ids);
    const resolved = (await store.get(strandedId))!;
    expect(resolved.jobs[0]!.state === 'submitted' || resolved.jobs[0]!.state === 'failed').toBe(true);
    harness.cleanup();
  });

  it('a record stranded before sbatch ran is recorded as failed and its key launches anew', async () => {
    const scheduler = createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv() });
    const jobs = await createTestJobs(scheduler);
    const key = `never-ran-${Date.now()}`;
    const deadOwner = await deadProcessOwner();
    const stranded = launchRecord('strandedplan1', { key, state: 'planned', owner: deadOwner });
    await jobs.store.create(stranded);
    expect(await jobs.store.claimIdempotencyKey(key, stranded.launch_id)).toBeUndefined();

    const result = await jobs.service.launch(LOCAL_LAUNCH, { idempotencyKey: key });
    remember(jobs.scheduler, result.job_ids);
    expect(result.replayed).toBe(false);
    expect(result.launch_id).not.toBe(stranded.launch_id);
    expect(result.job_ids).toHaveLength(1);
    const failed = (await jobs.store.get(stranded.launch_id))!;
    expect(failed.jobs[0]).toMatchObject({ state: 'failed' });
    expect(failed.jobs[0]!.error).toMatch(/stopped before it reached sbatch/);
  });

  it('a record stranded in submitting whose job reached SLURM shows up in status with its job', async () => {
    const scheduler = createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv() });
    const jobs = await createTestJobs(scheduler);
    const workingDir = await scheduler.workingDir();
    const stranded = launchRecord('strandedsub1', { state: 'submitting', owner: await deadProcessOwner() });
    const { jobId } = await scheduler.submit({
      script: `#!/bin/bash\n#SBATCH --comment=${stranded.jobs[0]!.tag}\n#SBATCH --time=00:02:00\n#SBATCH --output=/dev/null\nsleep 60\n`,
      scriptPath: `${workingDir}/stranded-${Date.now()}.sh`,
      workingDir,
      tag: stranded.jobs[0]!.tag,
    });
    launched.push({ scheduler, jobId });
    await jobs.store.create(stranded);

    const listed = await jobs.service.status(undefined);
    const view = listed.find((s) => s.job_id === jobId);
    expect(view).toMatchObject({ launch_id: stranded.launch_id, is_recorded_locally: true });
    expect((await jobs.store.get(stranded.launch_id))!.jobs[0]).toMatchObject({
      state: 'submitted',
      job_id: jobId,
    });
    expect(await jobs.service.knownJobIds()).toContain(jobId);
  });
});
