/**
 * `sml-mcp shell JOB`: a real interactive shell on a node of a running job on the local cluster
 * (srun --overlap --pty), driven through a pseudo-terminal (tmux) as a person would type.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { describeOnCluster } from '../helpers/cluster.js';
import { startTerminal } from '../helpers/tmux.js';
import { clusterEnv, createHarness, eventually, type Harness, submitRecordedJob } from '../mcp/harness.js';

describeOnCluster('sml-mcp shell on the local cluster', () => {
  let harness: Harness;
  let jobId: string;
  let terminal: ReturnType<typeof startTerminal> | undefined;
  beforeAll(async () => {
    harness = createHarness({ onCluster: true });
    // A job that stays up for the test: one line a second for two minutes.
    jobId = await submitRecordedJob(harness, { lines: 120, intervalS: 1 });
  });
  afterAll(async () => {
    terminal?.close();
    await harness.scheduler.cancel(jobId).catch(() => undefined);
    harness.cleanup();
  });

  it('opens a login shell on the job node through srun --pty, in a terminal', async () => {
    const node = await eventually(async () => {
      const [info] = [...(await harness.scheduler.statuses([jobId])).values()];
      return info?.state === 'RUNNING' ? info.nodes?.[0] : undefined;
    }, 120_000);
    const env = { ...clusterEnv(), SML_CONFIG_DIR: harness.dir, SML_SYSTEM: 'local' };
    const exports = Object.entries(env).map(([name, value]) => `${name}='${value}'`);
    terminal = startTerminal(
      `sml-shell-${process.pid}`,
      `env ${exports.join(' ')} ${process.execPath} ${CLI} shell ${jobId}; echo "SHELL-EXIT=$?"; sleep 60`,
    );
    const pane = terminal.screen;
    // The prompt of the node's login shell, then a command typed into it.
    await eventually(async () => (/Shell on n\d/.test(pane()) ? true : undefined), 60_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    terminal.type('echo "on-$(hostname)-$SLURM_JOB_ID-$((6*7))"; tty; exit');
    const text = await eventually(async () => {
      const shown = pane();
      return /SHELL-EXIT=\d+/.test(shown) ? shown : undefined;
    }, 60_000);
    expect(text).toContain(`Shell on ${node} (replica 0, node 0) of job ${jobId}`);
    expect(text).toContain(`on-${node}-${jobId}-42`);
    expect(text).toMatch(/\/dev\/pts\/\d+/);
    expect(text).toContain('SHELL-EXIT=0');
  });
});
