/**
 * The `sml-mcp` command line against the local cluster: the built binary launches, waits, reads
 * logs and cancels for real (the cluster-free commands are tested in test/cli).
 */
import { afterAll, expect, it } from 'vitest';
import { cliRunner } from '../helpers/cli.js';
import { clusterEnv, describeOnCluster } from '../helpers/cluster.js';

const sml = cliRunner();

describeOnCluster('sml-mcp launch, status, logs and cancel on the local cluster', () => {
  const launched: string[] = [];
  const env = () => ({ ...clusterEnv(), SML_SYSTEM: 'local' });
  afterAll(async () => {
    for (const id of launched) await sml(['cancel', id, '--yes'], env());
  });

  async function launch(extra: string[]): Promise<{ job_id: string; served_model_name: string }> {
    const result = await sml(
      [
        'launch',
        '--model',
        'swiss-ai/Apertus-8B-Instruct-2509',
        '--framework',
        'sglang',
        '--time',
        '00:10:00',
        '--json',
        ...extra,
      ],
      env(),
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout);
    launched.push(parsed.job_id);
    return parsed;
  }

  it('launch --json, status --wait serving (exit 0), logs, cancel --yes twice', {
    timeout: 300_000,
  }, async () => {
    const job = await launch([]);
    expect(job.served_model_name).toBe('root/swiss-ai/Apertus-8B-Instruct-2509');
    const status = await sml(['status', job.job_id, '--wait', 'serving', '--timeout', '180'], env());
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/serving/);
    expect(status.stdout).toMatch(/endpoint\s+replica 0: http:\/\/10\.77\.0\.1\d:8080\/v1/);
    const logs = await sml(['logs', job.job_id, '--file', 'replica_0.err', '--tail', '20'], env());
    expect(logs.stdout).toContain('The server is fired up and ready to roll!');
    expect((await sml(['cancel', job.job_id, '--yes'], env())).stdout).toContain(
      `Job ${job.job_id} cancelled.`,
    );
    const again = await sml(['cancel', job.job_id, '--yes'], env());
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/already ended/);
  });

  it('status --wait exits 4 when the job ends first and 3 on timeout', async () => {
    const failing = await launch(['--pre-launch-cmds', 'export SML_STANDIN_FAIL=oom']);
    const ended = await sml(['status', failing.job_id, '--wait', 'serving', '--timeout', '120'], env());
    expect(ended.exitCode).toBe(4);
    expect(ended.stdout).toMatch(/cause\s+The engine ran out of GPU memory/);
    const hanging = await launch(['--pre-launch-cmds', 'export SML_STANDIN_FAIL=hang']);
    const timedOut = await sml(['status', hanging.job_id, '--wait', 'serving', '--timeout', '8'], env());
    expect(timedOut.exitCode).toBe(3);
  }, 300_000);

  it('cancel without --yes and without a terminal refuses, and leaves the job running', async () => {
    const job = await launch([]);
    const refused = await sml(['cancel', job.job_id], env());
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/CONFIRMATION_REQUIRED/);
    const status = await sml(['status', job.job_id, '--json'], env());
    expect(JSON.parse(status.stdout).jobs[0].phase).not.toBe('ended');
  });
});
