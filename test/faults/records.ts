/**
 * Launch records written with the store API, as a launch leaves them at each of its steps (for
 * tests of what readers make of them: a stranded launch, a job recorded before it ran), and small
 * jobs recorded the way a launch records them.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmlError } from '../../src/errors.js';
import type { JobServiceApi } from '../../src/jobs/api.js';
import { currentOwner } from '../../src/jobs/recovery.js';
import type { LaunchJobRecord, LaunchRecord } from '../../src/jobs/store.js';
import { waitFor } from '../helpers/cluster.js';
import { LOCAL_ENVIRONMENT_PATH, LOCAL_SYSTEM, type TestJobs, tinyLaunch } from '../helpers/jobs.js';

/** An owner whose process has exited: a real child that ran and ended. */
export async function deadProcessOwner(): Promise<LaunchRecord['owner']> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return { ...currentOwner(), pid: child.pid! };
}

/** A one-job launch of the local test model (a real spec), its launch id made unique from `name`. */
export function launchRecord(
  name: string,
  options: {
    key?: string;
    state: LaunchJobRecord['state'];
    jobId?: string;
    owner?: LaunchRecord['owner'];
    workingDir?: string;
  },
): LaunchRecord {
  const launchId = `${name}${Date.now().toString(36)}`;
  const { request, spec } = tinyLaunch({
    system: LOCAL_SYSTEM,
    time: '00:05:00',
    launchId,
    environmentText: readFileSync(LOCAL_ENVIRONMENT_PATH, 'utf8'),
  });
  const tenSecondsAgo = new Date(Date.now() - 10_000).toISOString();
  return {
    launch_id: launchId,
    created_at: tenSecondsAgo,
    idempotency_key: options.key,
    system: 'local',
    user: 'root',
    served_model_name: 'test/tiny',
    framework: 'sglang',
    working_dir: options.workingDir ?? '/tmp',
    spec: spec as unknown as Record<string, unknown>,
    request: request as unknown as Record<string, unknown>,
    jobs: [
      {
        index: 0,
        tag: spec.jobTag,
        state: options.state,
        ...(options.jobId ? { job_id: options.jobId } : {}),
        ...(options.state === 'submitting' ? { submitting_since: tenSecondsAgo } : {}),
        scripts: {},
        runs: 'now',
      },
    ],
    warnings: [],
    owner: options.owner,
  };
}

/** What the fault tests launch through the job service: the catalog's small model, five minutes. */
export const LOCAL_LAUNCH = {
  model: 'swiss-ai/Apertus-8B-Instruct-2509',
  framework: 'sglang',
  system: 'local',
  time: '00:05:00',
};

/**
 * A small job submitted and recorded the way a launch records it; its body is bash run on a node.
 * The caller cancels it.
 */
export async function recordedJob(
  jobs: TestJobs,
  name: string,
  body: string,
  directives: string[] = [],
): Promise<{ jobId: string; logDir: string }> {
  const workingDir = join(tmpdir(), `sml-faults-${name}-${Date.now()}`);
  await mkdir(join(workingDir, 'logs'), { recursive: true });
  const record = launchRecord(name, { state: 'submitted', workingDir });
  const tag = record.jobs[0]!.tag;
  const { jobId } = await jobs.scheduler.submit({
    script: [
      '#!/bin/bash',
      `#SBATCH --comment=${tag}`,
      '#SBATCH --time=00:05:00',
      `#SBATCH --output=${workingDir}/slurm-%j.out`,
      ...directives.map((d) => `#SBATCH ${d}`),
      'mkdir -p "logs/$SLURM_JOB_ID"',
      body,
      '',
    ].join('\n'),
    scriptPath: join(workingDir, 'job.sh'),
    workingDir,
    tag,
  });
  record.jobs[0]!.job_id = jobId;
  await jobs.store.create(record);
  return { jobId, logDir: join(workingDir, 'logs', jobId) };
}

/** Retry a launch with its key until it no longer answers "outcome unknown" (the settle time passes). */
export async function retryUntilKnown(jobs: Pick<JobServiceApi, 'launch'>, key: string) {
  return waitFor(
    async () => {
      try {
        return await jobs.launch(LOCAL_LAUNCH, { idempotencyKey: key });
      } catch (error) {
        if (error instanceof SmlError && error.isAmbiguous) return undefined;
        throw error;
      }
    },
    { timeoutMs: 60_000, intervalMs: 1000, what: 'the retry with the same key to resolve the lost submit' },
  );
}
