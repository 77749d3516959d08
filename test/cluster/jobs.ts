/** Small SLURM job helpers for the harness tests of test/cluster (plain sbatch/squeue/sacct). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { quoteShell } from '../../src/shell.js';
import { LOCAL_ROOT, runOnCluster, waitFor } from '../helpers/cluster.js';

/** How long a job may wait in the shared queue (other test files hold nodes too). */
export const QUEUE_WAIT_MS = 300_000;
/** Per-test timeout of a test that submits jobs: queue wait plus its own run. */
export const JOB_TEST_TIMEOUT_MS = QUEUE_WAIT_MS + 120_000;

/** `export NAME=value` lines for the [env] table of the local environment file (runtime none). */
export function localEnvExports(file = `${LOCAL_ROOT}/env/local.toml`): string[] {
  const toml = parse(readFileSync(file, 'utf8')) as { env?: Record<string, unknown> };
  return Object.entries(toml.env ?? {}).map(([name, value]) => `export ${name}=${quoteShell(String(value))}`);
}

/** A fresh directory visible to every node (they share this machine's filesystem). */
export function jobDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sml-harness-${prefix}-`));
}

export async function submit(
  dir: string,
  body: string,
  options: { nodes: number; exclusive?: boolean; timeLimit?: string; name?: string },
): Promise<string> {
  const script = join(dir, 'job.sh');
  writeFileSync(script, `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  const args = [
    '--parsable',
    `--chdir=${dir}`,
    `--job-name=${options.name ?? 'sml-harness'}`,
    `--nodes=${options.nodes}`,
    `--time=${options.timeLimit ?? '00:10:00'}`,
    `--output=${join(dir, 'job.out')}`,
    `--error=${join(dir, 'job.err')}`,
    ...(options.exclusive ? ['--exclusive'] : []),
    script,
  ];
  const result = await runOnCluster('sbatch', args);
  if (result.exitCode !== 0) throw new Error(`sbatch failed: ${result.stderr}`);
  return result.stdout.trim().split(';')[0]!;
}

/** The job's state from squeue while queued, from sacct (or scontrol) once it has left the queue. */
export async function jobState(id: string): Promise<string> {
  const queued = await runOnCluster('squeue', ['-h', '-j', id, '-o', '%T']);
  if (queued.exitCode === 0 && queued.stdout.trim()) return queued.stdout.trim();
  const accounted = await runOnCluster('sacct', ['-n', '-X', '-P', '-j', id, '-o', 'State']);
  if (accounted.exitCode === 0 && accounted.stdout.trim()) return accounted.stdout.trim().split(/\s+/)[0]!;
  const shown = await runOnCluster('scontrol', ['show', 'job', '-o', id]);
  return /JobState=(\S+)/.exec(shown.stdout)?.[1] ?? 'UNKNOWN';
}

const ENDED = /^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)/;

export async function waitForState(id: string, wanted: RegExp, timeoutMs: number): Promise<string> {
  return waitFor(
    async () => {
      const state = await jobState(id);
      return wanted.test(state) ? state : undefined;
    },
    { timeoutMs, intervalMs: 500, what: `job ${id} in state ${wanted}` },
  );
}

export const waitForEnd = (id: string, timeoutMs: number) => waitForState(id, ENDED, timeoutMs);

/** The nodes a running job holds, in order (n1, n2 …). */
export async function jobNodes(id: string): Promise<string[]> {
  const list = await runOnCluster('squeue', ['-h', '-j', id, '-o', '%N']);
  const expanded = await runOnCluster('scontrol', ['show', 'hostnames', list.stdout.trim()]);
  return expanded.stdout.trim().split('\n').filter(Boolean);
}

export async function cancel(id: string): Promise<void> {
  await runOnCluster('scancel', [id]);
}

/** An HTTP GET that never throws: status 0 when nothing answers. */
export async function probe(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: '' };
  }
}
