/**
 * Status under scheduler faults, on the local cluster: accounting (slurmdbd) down, the controller
 * frozen during a wait, a node going down under a job; and what status shows of ended jobs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Scheduler } from '../../src/scheduler/scheduler.js';
import { createSlurmScheduler, type TransferEvent } from '../../src/scheduler/slurm/index.js';
import { clusterEnv, describeOnCluster, runOnCluster, waitFor } from '../helpers/cluster.js';
import { createTestJobs, type TestJobs } from '../helpers/jobs.js';
import { pauseDaemon, stopAccounting } from './daemons.js';
import { launchRecord, recordedJob as submitRecorded } from './records.js';

const submitted: { scheduler: Scheduler; jobId: string }[] = [];

afterAll(async () => {
  for (const { scheduler, jobId } of submitted) await scheduler.cancel(jobId).catch(() => undefined);
});

/** A recorded job (records.ts), cancelled after the tests. */
async function recordedJob(jobs: TestJobs, name: string, body: string, directives: string[] = []) {
  const job = await submitRecorded(jobs, name, body, directives);
  submitted.push({ scheduler: jobs.scheduler, jobId: job.jobId });
  return job;
}

async function waitForPhase(jobs: TestJobs, jobId: string, phase: string) {
  return waitFor(
    async () => {
      const [view] = await jobs.service.status([jobId]);
      return view?.phase === phase ? view : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, what: `job ${jobId} to be ${phase}` },
  );
}

describeOnCluster('status under scheduler faults', () => {
  it('with slurmdbd down, an ended job is still reported (from the controller), with a note naming accounting', {
    timeout: 120_000,
  }, async () => {
    const scheduler = createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv() });
    const jobs = await createTestJobs(scheduler);
    const ended = await recordedJob(jobs, 'acctdown', 'exit 0');
    await waitForPhase(jobs, ended.jobId, 'ended');
    // The health report an ended job left behind must not show as healthy replicas.
    await writeFile(
      join(ended.logDir, 'replica_health.json'),
      JSON.stringify({
        checked_at: Math.floor(Date.now() / 1000),
        replicas: [{ replica: 0, health: 'HEALTHY', node_ip: '10.77.0.11', last_seen: 1 }],
      }),
    );
    const restore = await stopAccounting();
    try {
      const [recorded] = await jobs.service.status([ended.jobId]);
      expect(recorded).toMatchObject({
        phase: 'ended',
        end_reason: 'completed',
        replicas_healthy: 0,
        replica_health: [],
      });
      expect(recorded!.notes.join(' ')).toMatch(/accounting \(slurmdbd\) is unavailable/);
      expect(recorded!.notes.join(' ')).not.toMatch(/controller:/);
      // Listing every job reads accounting's history too: it falls back to the controller's table.
      const all = await jobs.service.status(undefined);
      expect(all.map((s) => s.job_id)).toContain(ended.jobId);
    } finally {
      await restore();
    }
  });

  it('status --wait keeps waiting through a frozen controller until its timeout', {
    timeout: 120_000,
  }, async () => {
    // Short command timeouts: squeue fails fast while slurmctld is frozen.
    const scheduler = createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv(), timeoutMs: 2000 });
    const jobs = await createTestJobs(scheduler);
    const job = await recordedJob(jobs, 'frozenwait', 'sleep 6');
    await waitForPhase(jobs, job.jobId, 'starting');
    const waiting = jobs.service.waitFor([job.jobId], 'ended', { timeoutS: 60 });
    const resume = pauseDaemon('slurmctld');
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000));
    } finally {
      resume();
    }
    const result = await waiting;
    expect(result).toMatchObject({ reached: true, timed_out: false });
  });

  it('a node that goes down under a job ends it as node_fail', { timeout: 120_000 }, async () => {
    const scheduler = createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv() });
    const jobs = await createTestJobs(scheduler);
    const job = await recordedJob(jobs, 'nodedown', 'sleep 120', ['--nodelist=n4', '--no-requeue']);
    await waitForPhase(jobs, job.jobId, 'starting');
    const down = await runOnCluster('scontrol', [
      'update',
      'nodename=n4',
      'state=down',
      'reason=sml-mcp fault test',
    ]);
    try {
      expect(down.exitCode, down.stderr).toBe(0);
      const ended = await waitForPhase(jobs, job.jobId, 'ended');
      expect(ended.end_reason).toBe('node_fail');
      expect(ended.slurm_reason ?? '').not.toMatch(/^(Priority|Resources|BeginTime)$/);
    } finally {
      await runOnCluster('scontrol', ['update', 'nodename=n4', 'state=resume']);
    }
  });

  it('a queued chain job whose predecessor was cancelled before it ran is noted as a broken chain', async () => {
    const scheduler = createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv() });
    const jobs = await createTestJobs(scheduler);
    const workingDir = join(tmpdir(), `sml-faults-chain-${Date.now()}`);
    await mkdir(workingDir, { recursive: true });
    const record = launchRecord('chain', { state: 'submitted', workingDir });
    const launchTag = record.jobs[0]!.tag.replace(/:0$/, '');
    const ids: string[] = [];
    for (const index of [0, 1]) {
      const { jobId } = await scheduler.submit({
        script: `#!/bin/bash\n#SBATCH --comment=${launchTag}:${index}\n#SBATCH --hold\n#SBATCH --time=00:02:00\n#SBATCH --output=/dev/null\nsleep 60\n`,
        scriptPath: join(workingDir, `chain-${index}.sh`),
        workingDir,
        tag: `${launchTag}:${index}`,
      });
      submitted.push({ scheduler, jobId });
      ids.push(jobId);
    }
    record.jobs[0]!.job_id = ids[0];
    record.jobs.push({ ...record.jobs[0]!, index: 1, tag: `${launchTag}:1`, job_id: ids[1] });
    await jobs.store.create(record);
    await scheduler.cancel(ids[0]!);
    const [, second] = await waitFor(
      async () => {
        const views = await jobs.service.status(ids);
        return views[0]?.phase === 'ended' ? views : undefined;
      },
      { timeoutMs: 30_000, what: 'the first job of the chain to end' },
    );
    expect(second).toMatchObject({ phase: 'queued', chain_index: 1 });
    expect(second!.notes.join(' ')).toMatch(new RegExp(`chain is broken: job ${ids[0]} before this one`));
  });

  it('followers of one job share one status sweep', async () => {
    const events: TransferEvent[] = [];
    const scheduler = createSlurmScheduler(
      { kind: 'slurm' },
      { env: clusterEnv(), onTransfer: (event) => events.push(event) },
    );
    const jobs = await createTestJobs(scheduler);
    const job = await recordedJob(jobs, 'followers', 'sleep 20');
    events.length = 0;
    const views = await Promise.all(Array.from({ length: 5 }, () => jobs.service.status([job.jobId])));
    expect(views.every(([view]) => view?.job_id === job.jobId)).toBe(true);
    expect(events.filter((event) => event.program === 'squeue')).toHaveLength(1);
  });
});
