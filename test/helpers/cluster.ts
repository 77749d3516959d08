/**
 * Access to the local four-node SLURM cluster of test/cluster (brought up by test/cluster/up.sh).
 *
 * Cluster tests use `describeOnCluster(...)` (or `requireCluster()` inside a test): when the cluster is
 * not up they are skipped, except with CI=true, where a cluster test that cannot run is a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, it } from 'vitest';

const ENV_SCRIPT = fileURLToPath(new URL('../cluster/env.sh', import.meta.url));
const UP_SCRIPT = fileURLToPath(new URL('../cluster/up.sh', import.meta.url));

/** The four nodes: name and address inside their own network namespace. */
export const CLUSTER_NODES = [
  { name: 'n1', address: '10.77.0.11' },
  { name: 'n2', address: '10.77.0.12' },
  { name: 'n3', address: '10.77.0.13' },
  { name: 'n4', address: '10.77.0.14' },
] as const;

/** Where up.sh installs the jobs' software (env/, engines/, models/, opentelabin/). */
export const LOCAL_ROOT = '/opt/sml-local';

let cachedEnv: Record<string, string> | undefined;

/** The variables test/cluster/env.sh exports (SLURM_CONF, SML_CLUSTER_*, SLURM_TIME_FORMAT …). */
export function clusterEnv(): Record<string, string> {
  if (cachedEnv) return { ...cachedEnv };
  const names = [...readFileSync(ENV_SCRIPT, 'utf8').matchAll(/^export ([A-Za-z_][A-Za-z0-9_]*)=/gm)].map(
    (match) => match[1]!,
  );
  // Let bash evaluate env.sh so the values are exactly what a shell that sources it gets.
  const result = spawnSync('bash', ['-c', 'source "$1" && env -0', 'cluster-env', ENV_SCRIPT], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  if (result.status !== 0) throw new Error(`sourcing ${ENV_SCRIPT} failed: ${result.stderr}`);
  const all = new Map(
    result.stdout
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const),
  );
  cachedEnv = Object.fromEntries(names.filter((name) => all.has(name)).map((name) => [name, all.get(name)!]));
  return { ...cachedEnv };
}

let wasSeenUp = false;

/** True when slurmctld answers and all four nodes respond (jobs may be running on them). */
export function isClusterUp(): boolean {
  wasSeenUp ||= isClusterAnswering();
  return wasSeenUp;
}

/** The check of isClusterUp, made now (a test that restarted a daemon waits for it). */
export function isClusterAnswering(): boolean {
  const env = { ...process.env, ...clusterEnv() };
  if (!existsSync(env.SLURM_CONF ?? '')) return false;
  const ping = spawnSync('scontrol', ['ping'], { encoding: 'utf8', env, timeout: 15_000 });
  if (ping.status !== 0 || !/is UP/.test(ping.stdout)) return false;
  const nodes = spawnSync('sinfo', ['-h', '-N', '-p', 'normal', '-o', '%N %t'], {
    encoding: 'utf8',
    env,
    timeout: 15_000,
  });
  if (nodes.status !== 0) return false;
  const states = new Map(
    nodes.stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/) as [string, string]),
  );
  const isResponding = (state: string | undefined) =>
    state !== undefined && !state.endsWith('*') && !/^(down|drain|drng|fail|unk|boot|npc)/.test(state);
  return CLUSTER_NODES.every((node) => isResponding(states.get(node.name)));
}

const isCi = () => process.env.CI === 'true' || process.env.CI === '1';

function notUpMessage(): string {
  return `the local SLURM cluster is not up (run ${UP_SCRIPT}; see test/cluster/README.md)`;
}

/**
 * A describe block that needs the cluster: skipped when the cluster is down, a failing test in CI.
 * The cluster's env (SLURM_CONF …) is put into process.env so code under test finds the cluster.
 */
export function describeOnCluster(name: string, body: () => void): void {
  if (isClusterUp()) {
    Object.assign(process.env, clusterEnv());
    describe(name, body);
  } else if (isCi()) {
    describe(name, () => {
      it('needs the local SLURM cluster', () => {
        throw new Error(`CI=true and ${notUpMessage()}: cluster tests must not be skipped`);
      });
    });
  } else {
    describe.skip(`${name} (${notUpMessage()})`, body);
  }
}

/**
 * Ensure the cluster is up inside a test or hook: returns its env (also put into process.env).
 * When it is down: throws in CI; skips the test when given its context; throws otherwise.
 */
export async function requireCluster(context?: {
  skip: (note?: string) => void;
}): Promise<Record<string, string>> {
  if (!isClusterUp()) {
    if (!isCi() && context) context.skip(notUpMessage());
    throw new Error(isCi() ? `CI=true and ${notUpMessage()}` : notUpMessage());
  }
  const env = clusterEnv();
  Object.assign(process.env, env);
  return env;
}

/** Run a command with the cluster's env (stdout/stderr captured; never throws on exit code). */
export async function runOnCluster(
  command: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await execa(command, args, {
    env: clusterEnv(),
    reject: false,
    timeout: options.timeoutMs ?? 60_000,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
}

/**
 * Poll CHECK until it returns a truthy value (which is returned). A thrown error counts as "not yet";
 * on timeout the error names what was awaited and the last value or error seen.
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: WaitOptions): Promise<NonNullable<T>> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(
        `Timed out after ${options.timeoutMs} ms waiting for ${options.what ?? 'a condition'}; last: ${seen}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
  }
}
