/**
 * Partition, account and reservation resolve in one place for every launch path (request → flag →
 * SML_* → config file → system → the cluster's account), and a Hugging Face token reaches the
 * job only out of band: on the in-memory scheduler (the real cluster: test/e2e/launch-defaults).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LaunchResultView } from '../../src/jobs/types.js';
import { InMemoryScheduler, type InMemorySchedulerOptions } from '../doubles/scheduler/index.js';
import { seedLocalCluster } from '../doubles/scheduler/local-cluster.js';
import { connect, createHarness, expectToolSuccess, type Harness } from './harness.js';

const TINY = {
  model_path: '/opt/sml-local/models/test/tiny',
  framework: 'sglang',
  served_model_name: 'test/tiny',
};

const harnesses: Harness[] = [];

/** A scheduler seeded like the local cluster, with its reservation and the given identity. */
function memoryWith(options: InMemorySchedulerOptions = {}): InMemoryScheduler {
  const memory = new InMemoryScheduler({ reservations: [{ name: 'sml-maint' }], ...options });
  seedLocalCluster(memory);
  return memory;
}
afterEach(() => {
  for (const harness of harnesses.splice(0)) harness.cleanup();
});

async function launch(harness: Harness, args: Record<string, unknown>) {
  harnesses.push(harness);
  const client = await connect(harness.deps);
  try {
    const outcome = await client.callTool({ name: 'launch', arguments: { time: '00:05:00', ...args } });
    return { outcome, result: expectToolSuccess(outcome) as unknown as LaunchResultView };
  } finally {
    await client.close();
  }
}

const sbatchOf = (memory: InMemoryScheduler, jobId: string): string[] =>
  (memory.job(jobId).request?.script ?? '').split('\n').filter((line) => line.startsWith('#SBATCH '));

describe('launch defaults', () => {
  it('env over config file over system profile; the request over all; every job of a chain', async () => {
    const harness = createHarness({
      memory: memoryWith(),
      env: { SML_PARTITION: 'debug', SML_RESERVATION: 'sml-maint' },
      configFile: { defaults: { account: 'proj-file', partition: 'normal' } },
    });
    const { result } = await launch(harness, { ...TINY });
    expect(result.slurm_settings).toMatchObject({
      partition: { value: 'debug', source: 'env', from: 'environment variable SML_PARTITION' },
      reservation: { value: 'sml-maint', source: 'env' },
      account: { value: 'proj-file', source: 'file' },
    });
    expect(sbatchOf(harness.memory!, result.job_ids[0]!)).toEqual(
      expect.arrayContaining([
        '#SBATCH --partition=debug',
        '#SBATCH --reservation=sml-maint',
        '#SBATCH --account=proj-file',
      ]),
    );

    const chainHarness = createHarness({
      memory: memoryWith(),
      env: { SML_PARTITION: 'debug', SML_RESERVATION: 'sml-maint' },
    });
    const chain = await launch(chainHarness, {
      ...TINY,
      partition: 'normal',
      time: '01:30:00',
      consecutive: true,
      max_job_time: '00:50:00',
      handover_time: '00:10:00',
    });
    const memory = chainHarness.memory!;
    expect(chain.result.job_ids.length).toBeGreaterThan(1);
    expect(chain.result.slurm_settings.partition).toMatchObject({ value: 'normal', source: 'request' });
    // Nothing configured: the account the cluster reports for the user.
    expect(chain.result.slurm_settings.account).toMatchObject({ value: 'sml-test', source: 'cluster' });
    for (const jobId of chain.result.job_ids) {
      expect(sbatchOf(memory, jobId)).toEqual(
        expect.arrayContaining(['#SBATCH --partition=normal', '#SBATCH --reservation=sml-maint']),
      );
    }
  });

  it('an account the cluster could not look up is a warning and no --account, never a guess', async () => {
    const memory = memoryWith({
      identity: { user: 'root', home: '/root', accountProblem: 'sacctmgr failed: Connection refused' },
    });
    const harness = createHarness({ memory });
    const { result } = await launch(harness, { ...TINY });
    expect(result.slurm_settings.account).toMatchObject({ value: null, source: 'unset' });
    expect(result.warnings.join('\n')).toMatch(
      /default SLURM account on local could not be looked up \(sacctmgr failed: Connection refused\).*SML_ACCOUNT/,
    );
    expect(sbatchOf(memory, result.job_ids[0]!).some((line) => line.includes('--account'))).toBe(false);
  });

  it('dry runs and layout "auto" resolve the same way, and say where each value came from', async () => {
    const harness = createHarness({
      env: { SML_PARTITION: 'debug', SML_ACCOUNT: 'proj-a', SML_RESERVATION: 'r1' },
    });
    const { result, outcome } = await launch(harness, {
      model: 'Qwen/Qwen3-32B',
      system: 'local',
      layout: 'auto',
      dry_run: true,
    });
    expect(result.review!.sbatch).toEqual(
      expect.arrayContaining([
        '#SBATCH --partition=debug',
        '#SBATCH --account=proj-a',
        '#SBATCH --reservation=r1',
      ]),
    );
    expect(result.slurm_settings.account.from).toBe('environment variable SML_ACCOUNT');
    const text = (outcome.content as { type: string; text: string }[])[0]!.text;
    expect(text).toContain('account: proj-a (environment variable SML_ACCOUNT)');
  });

  it('HF_TOKEN goes to the job as a secret variable, never into a script or the result', async () => {
    const token = 'hf_SecretTokenValue0123456789';
    const harness = createHarness({ env: { HF_TOKEN: token } });
    const { outcome, result } = await launch(harness, { framework: 'vllm', model_path: 'org/hub-model' });
    const request = harness.memory!.job(result.job_ids[0]!).request!;
    expect(request.secretEnv).toEqual({ HF_TOKEN: token });
    expect(request.script).not.toContain(token);
    expect(JSON.stringify(outcome)).not.toContain(token);
    // A model folder on the cluster downloads nothing: the token is not handed out.
    const folder = await launch(createHarness({ env: { HF_TOKEN: token } }), { ...TINY });
    expect(harnesses.at(-1)!.memory!.job(folder.result.job_ids[0]!).request!.secretEnv).toBeUndefined();
  });
});
