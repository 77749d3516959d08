/**
 * Launch records written with the store API, as a launch leaves them at each of its steps (for
 * tests of what readers make of them: a stranded launch, a job recorded before it ran).
 */
import { spawn } from 'node:child_process';
import { readEnvironmentFile } from '../../src/catalog/environment.js';
import { buildLaunchSpecs, LaunchRequest } from '../../src/domain/launch-spec.js';
import { LOCAL_CLUSTER_ROOT } from '../../src/domain/system.js';
import { currentOwner } from '../../src/jobs/recovery.js';
import type { LaunchJobRecord, LaunchRecord } from '../../src/jobs/store.js';
import { LOCAL_SYSTEM } from '../helpers/jobs.js';

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
  const environmentPath = `${LOCAL_CLUSTER_ROOT}/env/local.toml`;
  const request = LaunchRequest.parse({
    model_path: `${LOCAL_CLUSTER_ROOT}/models/test/tiny`,
    framework: 'sglang',
    served_model_name: 'test/tiny',
    system: 'local',
    time: '00:05:00',
  });
  const [spec] = buildLaunchSpecs(request, {
    system: LOCAL_SYSTEM,
    user: 'root',
    environment: { clusterPath: environmentPath, file: readEnvironmentFile(environmentPath) },
    launchId,
  }).specs;
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
        tag: spec!.jobTag,
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
