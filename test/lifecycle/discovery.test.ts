/**
 * Jobs are found from SLURM alone (their tag), and jobs sml-mcp did not launch are protected
 * from cancel unless the caller insists.
 */
import { afterAll, expect, it } from 'vitest';
import { createSlurmScheduler } from '../../src/scheduler/slurm/index.js';
import { clusterEnv, describeOnCluster, runOnCluster } from '../helpers/cluster.js';
import { createTestJobs } from '../helpers/jobs.js';

describeOnCluster('finding and protecting jobs through SLURM tags', () => {
  const toCancel: string[] = [];
  const scheduler = () => createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv() });
  afterAll(async () => {
    for (const id of toCancel) await runOnCluster('scancel', [id]);
  });

  it('lists a launch of another machine (no local record) among my jobs', async () => {
    const elsewhere = await createTestJobs(scheduler());
    const launched = await elsewhere.service.launch({
      system: 'local',
      model: 'swiss-ai/Apertus-8B-Instruct-2509',
      framework: 'sglang',
      disable_opentela: true,
      time: '00:05:00',
    });
    toCancel.push(...launched.job_ids);
    const here = await createTestJobs(scheduler());
    const mine = await here.service.status(undefined);
    const found = mine.find((job) => job.job_id === launched.job_ids[0]);
    expect(found).toMatchObject({ is_recorded_locally: false, system: 'local' });
    expect(found!.phase).not.toBe('ended');
    // Ours by its tag, so it can be cancelled from here without allow_foreign.
    const cancelled = await here.service.cancel(launched.job_ids[0]!);
    expect(cancelled[0]).toMatchObject({ cancelled: true });
  });

  it('refuses to cancel a job sml-mcp did not launch, unless allowed explicitly', async () => {
    const submitted = await runOnCluster('sbatch', [
      '--parsable',
      '--wrap',
      'sleep 300',
      '--output=/dev/null',
    ]);
    expect(submitted.exitCode, submitted.stderr).toBe(0);
    const jobId = submitted.stdout.trim();
    toCancel.push(jobId);
    const { service } = await createTestJobs(scheduler());
    await expect(service.cancel(jobId)).rejects.toMatchObject({ code: 'NOT_OWNED' });
    const state = await runOnCluster('squeue', ['-h', '-j', jobId, '-o', '%T']);
    expect(state.stdout.trim()).toMatch(/PENDING|RUNNING/);
    const forced = await service.cancel(jobId, { allowForeign: true });
    expect(forced[0]).toMatchObject({ job_id: jobId, cancelled: true });
  });
});
