/**
 * Self-healing replicas on the local cluster: a stand-in engine killed by SIGKILL is restarted in
 * place while the other replica keeps serving behind the router; once its restarts are used up
 * it stays down and the job keeps serving, degraded, with the signal named.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { JobStatusView } from '../../src/jobs/types.js';
import { createSlurmScheduler } from '../../src/scheduler/slurm/index.js';
import { clusterEnv, describeOnCluster, runOnCluster, waitFor } from '../helpers/cluster.js';
import { chat, createTestJobs, type TestJobs } from '../helpers/jobs.js';

/** The engine process of a job's replica on one node (the job is ours: found by its SLURM_JOB_ID). */
function enginePid(jobId: string, node: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!argv.includes('sglang.launch_server')) continue;
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (env.includes(`SLURM_JOB_ID=${jobId}`) && env.includes(`SLURMD_NODENAME=${node}`))
        return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}

async function waitForView(
  jobs: TestJobs,
  jobId: string,
  what: string,
  check: (view: JobStatusView) => boolean,
): Promise<JobStatusView> {
  return waitFor(
    async () => {
      const [view] = await jobs.service.status([jobId]);
      if (view?.phase === 'ended') throw new Error(`job ${jobId} ended: ${JSON.stringify(view)}`);
      return view && check(view) ? view : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500, what },
  );
}

describeOnCluster('self-healing replicas', () => {
  it('restarts a killed engine in place, then keeps serving degraded once its restarts are used', {
    timeout: 300_000,
  }, async () => {
    const scheduler = createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv() });
    const jobs = await createTestJobs(scheduler);
    const launched = await jobs.service.launch({
      model: 'swiss-ai/Apertus-8B-Instruct-2509',
      framework: 'sglang',
      system: 'local',
      time: '00:05:00',
      replicas: 2,
      router: 'sglang',
      replica_restarts: 1,
      health_check_interval_s: 5,
    });
    const jobId = launched.job_ids[0]!;
    try {
      const serving = await waitForView(jobs, jobId, 'serving', (v) => v.phase === 'serving');
      // Another config dir (no local record) sees the same job serve: the job tells its replicas.
      const [unrecorded] = await (await createTestJobs(scheduler)).service.status([jobId]);
      expect(unrecorded).toMatchObject({
        phase: 'serving',
        replicas_expected: 2,
        is_recorded_locally: false,
      });
      const node = serving.replica_health.find((r) => r.replica === 1)!.node_host!;
      const router = serving.endpoints.find((e) => e.kind === 'router')!.url;
      const model = launched.served_model_name;
      // Serving behind a router means the router answers: it is what clients use.
      expect((await chat(router, model)).status).toBe(200);

      const first = enginePid(jobId, node)!;
      expect(first).toBeGreaterThan(1);
      process.kill(first, 'SIGKILL');
      // Restarted in place: a new engine on the same node, and both replicas healthy again.
      await waitFor(() => (enginePid(jobId, node) ?? first) !== first, {
        timeoutMs: 60_000,
        what: 'replica 1 to be restarted',
      });
      await waitForView(
        jobs,
        jobId,
        'serving again',
        (v) => v.phase === 'serving' && v.replicas_healthy === 2,
      );

      process.kill(enginePid(jobId, node)!, 'SIGKILL');
      const degraded = await waitForView(jobs, jobId, 'degraded', (v) => v.phase === 'degraded');
      expect(degraded.slurm_state).toBe('RUNNING');
      expect(degraded.replicas_healthy).toBe(1);
      expect(degraded.failure_hint?.signature).toBe('engine_killed');
      // The router skips the dead replica: requests are still answered.
      for (let i = 0; i < 3; i++) expect((await chat(router, model)).status).toBe(200);
      const log = (await jobs.service.readLog(jobId, 'log.err')).text;
      expect(log).toContain('restarting replica 1 in place (restart 1 of 1)');
      expect(log).toContain('replica 1 stays down after 1 restart(s); 1 replica(s) left');

      // Requeued, the job starts over: its previous run's health report never counts as serving.
      const requeuedAtS = Date.now() / 1000;
      const requeue = await runOnCluster('scontrol', ['requeue', jobId]);
      expect(requeue.exitCode, requeue.stderr).toBe(0);
      await waitForView(jobs, jobId, 'queued after the requeue', (v) => v.phase === 'queued');
      // SLURM holds a requeued job for two minutes; release it now, but in a later second than the
      // requeue: slurmd revokes the old run's credential to the second, and a new run started in
      // that same second is killed as "Job credential revoked".
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await runOnCluster('scontrol', ['update', `jobid=${jobId}`, 'starttime=now']);
      const again = await waitForView(jobs, jobId, 'serving after the requeue', (v) => v.phase === 'serving');
      expect(again.replicas_healthy).toBe(2);
      for (const replica of again.replica_health)
        expect(replica.last_seen).toBeGreaterThanOrEqual(Math.floor(requeuedAtS));
    } finally {
      await jobs.service.cancel(jobId);
    }
  });
});
