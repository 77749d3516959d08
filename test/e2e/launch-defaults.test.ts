/**
 * SML users set SML_PARTITION / SML_ACCOUNT / SML_RESERVATION (or the config file's defaults) and
 * expect every launch to honour them: real launches on the local cluster, checked with scontrol.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, it } from 'vitest';
import type { LaunchResultView } from '../../src/jobs/types.js';
import { describeOnCluster } from '../helpers/cluster.js';
import {
  clusterEnv,
  connect,
  createHarness,
  eventually,
  expectToolSuccess,
  type Harness,
} from '../mcp/harness.js';

const TINY = {
  model_path: '/opt/sml-local/models/test/tiny',
  framework: 'sglang',
  served_model_name: 'test/tiny',
};

async function scontrolJob(jobId: string): Promise<Record<string, string>> {
  const { stdout } = await execa('scontrol', ['-o', 'show', 'job', jobId], { env: clusterEnv() });
  return Object.fromEntries([...stdout.matchAll(/(\w+)=(\S*)/g)].map((m) => [m[1]!, m[2]!] as const));
}

describeOnCluster('launch defaults (partition, account, reservation) on the local cluster', () => {
  const harnesses: Harness[] = [];
  const launched: { harness: Harness; jobId: string }[] = [];
  afterAll(async () => {
    for (const { harness, jobId } of launched) await harness.scheduler.cancel(jobId).catch(() => undefined);
    for (const harness of harnesses) harness.cleanup();
  });

  async function launch(harness: Harness, args: Record<string, unknown>): Promise<LaunchResultView> {
    const client = await connect(harness.deps);
    try {
      const result = expectToolSuccess(
        await client.callTool({ name: 'launch', arguments: { ...TINY, time: '00:05:00', ...args } }),
      ) as unknown as LaunchResultView;
      launched.push(...result.job_ids.map((jobId) => ({ harness, jobId })));
      return result;
    } finally {
      await client.close();
    }
  }

  it('SML_PARTITION, SML_RESERVATION and the config file account reach the job, with their origin', async () => {
    const harness = createHarness({
      onCluster: true,
      env: { SML_PARTITION: 'debug', SML_RESERVATION: 'sml-maint' },
      configFile: { defaults: { account: 'sml-test', partition: 'normal' } },
    });
    harnesses.push(harness);
    const result = await launch(harness, {});
    expect(result.slurm_settings.partition).toMatchObject({ value: 'debug', source: 'env' });
    expect(result.slurm_settings.reservation).toMatchObject({ value: 'sml-maint', source: 'env' });
    expect(result.slurm_settings.account).toMatchObject({ value: 'sml-test', source: 'file' });
    const job = await scontrolJob(result.job_ids[0]!);
    expect(job.Partition).toBe('debug');
    expect(job.Reservation).toBe('sml-maint');
    expect(job.Account).toBe('sml-test');
  });

  it('accounting down: the job goes without --account and the result warns, instead of guessing a group', async () => {
    // A copy of the cluster's slurm.conf whose accounting port answers nothing: sacctmgr fails, sbatch works.
    const broken = join(mkdtempSync(join(tmpdir(), 'sml-conf-')), 'slurm-no-accounting.conf');
    writeFileSync(
      broken,
      readFileSync(clusterEnv().SLURM_CONF!, 'utf8').replace(
        /^AccountingStoragePort=.*$/m,
        'AccountingStoragePort=1',
      ),
    );
    const harness = createHarness({
      onCluster: true,
      slurmEnv: { ...clusterEnv(), SLURM_CONF: broken },
    });
    harnesses.push(harness);
    const result = await launch(harness, {});
    expect(result.slurm_settings.account).toMatchObject({ value: null, source: 'unset' });
    expect(result.warnings.join('\n')).toMatch(
      /default SLURM account on local could not be looked up \(sacctmgr failed/,
    );
    const client = await connect(harness.deps);
    try {
      const script = await client.readResource({ uri: `sml://jobs/${result.job_ids[0]}/sbatch/master.sh` });
      const text = (script.contents[0] as { text: string }).text;
      expect(text).toContain('#SBATCH --partition=normal');
      expect(text).not.toContain('--account');
    } finally {
      await client.close();
    }
  });

  it('a Hugging Face model gets HF_TOKEN in the job environment, never in a script or a result', async () => {
    const token = `hf_${Math.random().toString(36).slice(2)}SecretValue`;
    const harness = createHarness({ onCluster: true, env: { HF_TOKEN: token } });
    harnesses.push(harness);
    const client = await connect(harness.deps);
    try {
      const outcome = await client.callTool({
        name: 'launch',
        arguments: {
          framework: 'sglang',
          model_path: 'test-org/tiny-hub-model',
          time: '00:05:00',
          disable_opentela: true,
          // Proves the token reached the node without printing it.
          pre_launch_cmds: 'echo "token sha: $(printf %s "$HF_TOKEN" | sha256sum | cut -c1-16)"',
        },
      });
      const result = expectToolSuccess(outcome) as unknown as LaunchResultView;
      launched.push(...result.job_ids.map((jobId) => ({ harness, jobId })));
      expect(JSON.stringify(outcome)).not.toContain(token);
      const jobId = result.job_ids[0]!;
      const { createHash } = await import('node:crypto');
      const sha = createHash('sha256').update(token).digest('hex').slice(0, 16);
      const log = await eventually(async () => {
        const chunk = await client.callTool({
          name: 'logs',
          arguments: { job_id: jobId, file: 'replica_0.out' },
        });
        const text = String((chunk.structuredContent as { text?: string } | undefined)?.text ?? '');
        return text.includes('token sha:') ? text : undefined;
      }, 120_000);
      expect(log).toContain(`token sha: ${sha}`);
      for (const name of ['master.sh', 'head.sh', 'engine.sh']) {
        const script = await client.readResource({ uri: `sml://jobs/${jobId}/sbatch/${name}` });
        expect((script.contents[0] as { text: string }).text).not.toContain(token);
      }
    } finally {
      await client.close();
    }
  });
});
