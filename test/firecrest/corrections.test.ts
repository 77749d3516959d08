/**
 * The FirecREST double as the real server behaves (shared/reference/firecrest-v2-api.md,
 * Corrections): only sbatch's exit status decides a submit, and every remote command runs under
 * the server's `timeout 5`, so a slow sbatch answers 408 although the job was queued. The backend
 * must then find that job by its tag instead of submitting a second one.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { clusterEnv, describeOnCluster, runOnCluster } from '../helpers/cluster.js';
import { backendFor, fetchToken, sleepScript, startDouble } from './harness.js';

const RUN = Date.now().toString(36).slice(-6);
const submitted: string[] = [];

/** A PATH whose `sbatch` runs the real one, then does `after` (bash). */
function sbatchWrapper(after: string): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'sml-sbatch-wrapper-'));
  const env = { ...process.env, ...clusterEnv() };
  const wrapper = join(dir, 'sbatch');
  writeFileSync(wrapper, `#!/bin/bash\n/usr/bin/sbatch "$@"\ncode=$?\n${after}\nexit $code\n`);
  chmodSync(wrapper, 0o755);
  return { ...env, PATH: `${dir}:${env.PATH ?? ''}` };
}

afterAll(async () => {
  if (submitted.length > 0) await runOnCluster('scancel', submitted);
});

describeOnCluster('FirecREST double corrections', () => {
  it('accepts a submit whose sbatch exits 0 with error: on stderr (201 and the job id)', async () => {
    const double = await startDouble({ slurmEnv: sbatchWrapper('echo "sbatch: error: only a warning" >&2') });
    try {
      const token = await fetchToken(double);
      const response = await fetch(`${double.url}/compute/${double.system}/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          job: { name: `sml_fc_warn_${RUN}`, workingDirectory: double.home, script: sleepScript(1) },
        }),
      });
      expect(response.status).toBe(201);
      const { jobId } = (await response.json()) as { jobId: string };
      submitted.push(jobId);
      expect(jobId).toMatch(/^\d+$/);
    } finally {
      await double.stop();
    }
  });

  it('a slow sbatch answers 408 after queueing the job, and the backend finds that one job by its tag', async () => {
    // The double's default limit is the real server's 5 s.
    const double = await startDouble({ slurmEnv: sbatchWrapper('sleep 6') });
    const backend = backendFor(double);
    try {
      const workingDir = await backend.workingDir();
      const tag = `sml-mcp:fc408${RUN}:0`;
      double.resetCounters();
      const { jobId } = await backend.submit({
        script: sleepScript(30),
        scriptPath: posix.join(workingDir, `fc408_${RUN}.sh`),
        workingDir,
        tag,
      });
      submitted.push(jobId);
      expect(double.counters.byStatus['408']).toBeGreaterThanOrEqual(1);
      expect(double.counters.submits).toBe(1);
      const tagged = await backend.findTaggedJobs(tag);
      expect(tagged.map((job) => job.jobId)).toEqual([jobId]);
    } finally {
      await backend.close();
      await double.stop();
    }
  });
});
