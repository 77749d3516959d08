/**
 * The SLURM controller (slurmctld) stopped and started again, as in a restart, a fail-over or a
 * crash, on the local cluster: running jobs keep running on their nodes, accounting (slurmdbd)
 * keeps answering, and SLURM's commands fail with "Unable to contact slurm controller".
 */
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SmlError } from '../../src/errors.js';
import type { Scheduler } from '../../src/scheduler/scheduler.js';
import { createSlurmScheduler } from '../../src/scheduler/slurm/index.js';
import { clusterEnv, describeOnCluster, waitFor } from '../helpers/cluster.js';
import { rejection } from '../helpers/errors.js';
import { createTestJobs, type TestJobs } from '../helpers/jobs.js';
import { stopController } from './daemons.js';
import { launchRecord } from './records.js';

const LAUNCH = {
  model: 'swiss-ai/Apertus-8B-Instruct-2509',
  framework: 'sglang',
  system: 'local',
  time: '00:05:00',
};
const submitted: { scheduler: Scheduler; jobId: string }[] = [];

afterAll(async () => {
  for (const { scheduler, jobId } of submitted) await scheduler.cancel(jobId).catch(() => undefined);
});

/** A job recorded the way a launch records it, sleeping on a node. */
async function sleepingJob(jobs: TestJobs): Promise<string> {
  const workingDir = join(tmpdir(), `sml-faults-ctld-${Date.now()}`);
  await mkdir(join(workingDir, 'logs'), { recursive: true });
  const record = launchRecord('ctld', { state: 'submitted', workingDir });
  const tag = record.jobs[0]!.tag;
  const { jobId } = await jobs.scheduler.submit({
    script: [
      '#!/bin/bash',
      `#SBATCH --comment=${tag}`,
      '#SBATCH --time=00:05:00',
      `#SBATCH --output=${workingDir}/slurm-%j.out`,
      'mkdir -p "logs/$SLURM_JOB_ID"',
      'sleep 120',
      '',
    ].join('\n'),
    scriptPath: join(workingDir, 'job.sh'),
    workingDir,
    tag,
  });
  submitted.push({ scheduler: jobs.scheduler, jobId });
  record.jobs[0]!.job_id = jobId;
  await jobs.store.create(record);
  return jobId;
}

describeOnCluster('a controller restart', () => {
  it('status answers from accounting while slurmctld is down, a launch is ambiguous, and both recover', {
    timeout: 240_000,
  }, async () => {
    // Commands get more time than SLURM's own ~10 s of connection retries, so they fail as SLURM fails.
    const scheduler = createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv(), timeoutMs: 30_000 });
    const jobs = await createTestJobs(scheduler, undefined, { submitSettleMs: 2000 });
    await scheduler.workingDir();
    const jobId = await sleepingJob(jobs);
    await waitFor(async () => (await jobs.service.status([jobId]))[0]?.slurm_state === 'RUNNING', {
      timeoutMs: 60_000,
      what: `job ${jobId} to run`,
    });

    const key = `ctld-${Date.now()}`;
    const restart = await stopController();
    let failure: SmlError;
    try {
      // One job, and all my jobs: both from accounting, saying so.
      const [down] = await jobs.service.status([jobId]);
      expect(down).toMatchObject({ job_id: jobId, slurm_state: 'RUNNING', phase: 'starting' });
      expect(down!.notes.join(' ')).toMatch(/controller \(slurmctld\) is not answering.*accounting/);
      const mine = await jobs.service.status(undefined);
      expect(mine.find((view) => view.job_id === jobId)?.slurm_state).toBe('RUNNING');
      // sbatch cannot reach the controller: whether it queued is unknown, so the key is kept.
      failure = await rejection(jobs.service.launch(LAUNCH, { idempotencyKey: key }));
    } finally {
      await restart();
    }
    expect(failure).toBeInstanceOf(SmlError);
    expect(failure.code).toBe('SUBMIT_FAILED');
    expect(failure.isAmbiguous).toBe(true);
    expect(failure.message).toMatch(/Unable to contact slurm controller/);
    expect(failure.hint).toMatch(/same idempotency_key/);

    // The job ran on through the restart, and the controller reports it again, without the note.
    const [after] = await jobs.service.status([jobId]);
    expect(after).toMatchObject({ job_id: jobId, slurm_state: 'RUNNING', notes: [] });
    // The retry finds nothing under the lost submit's tag and launches once.
    const retried = await waitFor(
      async () => {
        try {
          return await jobs.service.launch(LAUNCH, { idempotencyKey: key });
        } catch (error) {
          if (error instanceof SmlError && error.isAmbiguous) return undefined;
          throw error;
        }
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'the retry with the same key to launch' },
    );
    for (const id of retried.job_ids) submitted.push({ scheduler, jobId: id });
    expect(retried.job_ids).toHaveLength(1);
    expect(await jobs.service.launch(LAUNCH, { idempotencyKey: key })).toMatchObject({
      replayed: true,
      job_ids: retried.job_ids,
    });
  });
});
