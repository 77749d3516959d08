/**
 * The SLURM controller (slurmctld) stopped and started again, as in a restart, a fail-over or a
 * crash, on the local cluster: running jobs keep running on their nodes, accounting (slurmdbd)
 * keeps answering, and SLURM's commands fail with "Unable to contact slurm controller".
 */
import { afterAll, expect, it } from 'vitest';
import { SmlError } from '../../src/errors.js';
import type { Scheduler } from '../../src/scheduler/scheduler.js';
import { createSlurmScheduler } from '../../src/scheduler/slurm/index.js';
import { clusterEnv, describeOnCluster, runOnCluster, waitFor } from '../helpers/cluster.js';
import { rejection } from '../helpers/errors.js';
import { createTestJobs } from '../helpers/jobs.js';
import { stopController } from './daemons.js';
import { LOCAL_LAUNCH, recordedJob, retryUntilKnown } from './records.js';

const submitted: { scheduler: Scheduler; jobId: string }[] = [];

afterAll(async () => {
  for (const { scheduler, jobId } of submitted) await scheduler.cancel(jobId).catch(() => undefined);
});

describeOnCluster('a controller restart', () => {
  it('status answers from accounting while slurmctld is down, a launch is ambiguous, and both recover', {
    timeout: 240_000,
  }, async () => {
    // Commands get more time than SLURM's own ~10 s of connection retries, so they fail as SLURM fails.
    const scheduler = createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv(), timeoutMs: 30_000 });
    const jobs = await createTestJobs(scheduler, undefined, { submitSettleMs: 2000 });
    await scheduler.workingDir();
    const { jobId } = await recordedJob(jobs, 'ctld', 'sleep 120');
    submitted.push({ scheduler, jobId });
    // Running, as the controller and as accounting (which hears of the start a moment later) see it.
    await waitFor(
      async () => {
        const sacct = await runOnCluster('sacct', ['-n', '-X', '-j', jobId, '-o', 'State']);
        return sacct.stdout.trim() === 'RUNNING';
      },
      { timeoutMs: 60_000, what: `job ${jobId} to run, in accounting too` },
    );

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
      failure = await rejection(jobs.service.launch(LOCAL_LAUNCH, { idempotencyKey: key }));
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
    const retried = await retryUntilKnown(jobs.service, key);
    for (const id of retried.job_ids) submitted.push({ scheduler, jobId: id });
    expect(retried.job_ids).toHaveLength(1);
    expect(await jobs.service.launch(LOCAL_LAUNCH, { idempotencyKey: key })).toMatchObject({
      replayed: true,
      job_ids: retried.job_ids,
    });
  });
});
