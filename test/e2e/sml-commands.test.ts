/**
 * SML's launch commands submitting for real on the local cluster: `preconfigured` and `advanced`
 * print SML's stdout lines (what SML users' scripts parse), for one job and for a chain.
 */
import { afterAll, expect, it } from 'vitest';
import { CLI, cliRunner } from '../helpers/cli.js';
import { describeOnCluster } from '../helpers/cluster.js';
import { startTerminal } from '../helpers/tmux.js';
import { clusterEnv, createHarness } from '../mcp/harness.js';

describeOnCluster('sml-mcp preconfigured / advanced on the local cluster', () => {
  const harness = createHarness({ onCluster: true });
  const run = cliRunner(harness.dir);
  const env = { ...clusterEnv(), SML_SYSTEM: 'local', HOME: harness.dir };
  const jobIds: string[] = [];
  afterAll(async () => {
    for (const jobId of jobIds.reverse()) await harness.scheduler.cancel(jobId).catch(() => undefined);
    harness.cleanup();
  });

  it("preconfigured prints SML's single-job lines", async () => {
    const result = await run(
      [
        'preconfigured',
        '--model',
        'swiss-ai/Apertus-8B-Instruct-2509',
        '--framework',
        'sglang',
        '--time',
        '00:05:00',
        '--no-tui',
      ],
      env,
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const jobId = /^Job submitted: (\d+)$/m.exec(result.stdout)?.[1];
    expect(jobId).toBeDefined();
    jobIds.push(jobId!);
    expect(result.stdout.split('\n')).toEqual([
      `Job submitted: ${jobId}`,
      expect.stringMatching(/^Served model name: [^/]+\/swiss-ai\/Apertus-8B-Instruct-2509$/),
      `Logs: ~/.sml/logs/${jobId}`,
      `Tail: tail -f ~/.sml/logs/${jobId}/log.out`,
    ]);
  });

  it("advanced with --consecutive prints SML's chain block", async () => {
    const result = await run(
      [
        'advanced',
        '--framework',
        'sglang',
        '--environment',
        '/opt/sml-local/env/local.toml',
        '--framework-args',
        '--model-path /opt/sml-local/models/swiss-ai/Apertus-8B-Instruct-2509 --served-model-name swiss-ai/apertus',
        '--nodes',
        '1',
        '--time',
        '01:00:00',
        '--consecutive',
        '--max-job-time',
        '00:30:00',
        '--handover-time',
        '00:10:00',
        '--disable-opentela',
      ],
      env,
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^Submitted a consecutive chain of 3 jobs:$/);
    const ids = lines.slice(1, 4).map((line) => /^ {2}Job (\d+) /.exec(line)?.[1]);
    jobIds.push(...(ids as string[]));
    expect(ids.every((id) => id !== undefined)).toBe(true);
    expect(lines).toContain(`Logs (first job): ~/.sml/logs/${ids[0]}`);
    expect(lines.some((line) => /^Served model name: [^/]+\/swiss-ai\/apertus$/.test(line))).toBe(true);
  });
  it('preconfigured on a terminal asks what its flags leave out, as SML, and launches it', async () => {
    const exports = Object.entries({ ...env, SML_CONFIG_DIR: harness.dir })
      .map(([name, value]) => `${name}='${value}'`)
      .join(' ');
    const terminal = startTerminal(
      `sml-preconfigured-${process.pid}`,
      `env -i PATH="$PATH" ${exports} ${process.execPath} ${CLI} preconfigured --no-tui; echo "SML-EXIT=$?"; sleep 30`,
    );
    try {
      // The catalog is listed by number; the answer is a number of the list.
      const listed = await terminal.waitForScreen(
        /^\s+(\d+)\s+swiss-ai\/Apertus-8B-Instruct-2509 \(sglang, vllm\)$/m,
      );
      await terminal.waitForScreen(/Model \[1-\d+ or a model id\]:\s*$/m);
      terminal.type(listed[1]!);
      await terminal.waitForScreen(/Framework \[sglang\/vllm\] \(sglang\):\s*$/m);
      terminal.type('');
      await terminal.waitForScreen(/Replicas \(1\):\s*$/m);
      terminal.type('');
      await terminal.waitForScreen(/Time \(HH:MM:SS\) \(03:00:00\):\s*$/m);
      terminal.type('5 minutes');
      await terminal.waitForScreen(/Give the time as HH:MM:SS/);
      terminal.type('00:05:00');
      const shown = await terminal.waitForScreen(/SML-EXIT=\d+/);
      const screen = terminal.screen();
      expect(shown[0], screen).toBe('SML-EXIT=0');
      const jobId = /^Job submitted: (\d+)$/m.exec(screen)?.[1];
      expect(jobId, screen).toBeDefined();
      jobIds.push(jobId!);
      expect(screen).toMatch(/^Served model name: [^/]+\/swiss-ai\/Apertus-8B-Instruct-2509$/m);
      // What was answered is what SLURM has: 5 minutes (as squeue prints it).
      const info = (await harness.scheduler.statuses([jobId!])).get(jobId!);
      expect(info?.timeLimit).toBe('5:00');
    } finally {
      terminal.close();
    }
  });
});
