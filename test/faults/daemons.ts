/**
 * Faults of the local cluster's daemons, for tests that run under the machine-wide cluster lock
 * (/work/coord/cluster-test.sh, or .ci/run's single vitest run). Every fault is undone by the
 * function it returns, which tests call in `finally`; undoing twice is harmless.
 */
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { clusterEnv, isClusterAnswering, waitFor } from '../helpers/cluster.js';

const RUN_DIR = `${clusterEnv().SML_CLUSTER_STATE ?? '/var/lib/sml-cluster'}/run`;

function pidOf(daemon: 'slurmctld' | 'slurmdbd'): number {
  const pid = Number(readFileSync(`${RUN_DIR}/${daemon}.pid`, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid in ${RUN_DIR}/${daemon}.pid`);
  return pid;
}

/** Freeze a daemon (SIGSTOP): requests reach its socket but get no answer until it is resumed. */
export function pauseDaemon(daemon: 'slurmctld' | 'slurmdbd'): () => void {
  const pid = pidOf(daemon);
  const resume = () => {
    process.off('exit', resume);
    process.kill(pid, 'SIGCONT');
  };
  // Even a test process that dies before its `finally` leaves the daemon running.
  process.once('exit', resume);
  process.kill(pid, 'SIGSTOP');
  return resume;
}

/** Stop slurmdbd (accounting down); the returned function starts it again and waits until it answers. */
export function stopAccounting(): Promise<() => Promise<void>> {
  return stopDaemon('slurmdbd', 'slurmdbd', ['sacctmgr', '-n', 'list', 'cluster']);
}

/**
 * Stop slurmctld, as a restart or a crash of the controller does: commands fail at once ("Unable
 * to contact slurm controller"), running jobs keep running on their nodes. The returned function
 * starts it again from its saved state (jobs included) and waits until it answers.
 */
export async function stopController(): Promise<() => Promise<void>> {
  const restart = await stopDaemon('slurmctld', 'slurmctld -f "$SLURM_CONF"', ['scontrol', 'ping']);
  return async () => {
    await restart();
    // The nodes register with the new controller a moment later; the next test needs them all.
    await waitFor(async () => isClusterAnswering(), {
      timeoutMs: 120_000,
      what: 'every node to respond again',
    });
  };
}

/** Stop `daemon`; the returned function runs `start` (bash, the cluster's environment) and waits for `probe`. */
async function stopDaemon(
  daemon: 'slurmctld' | 'slurmdbd',
  start: string,
  probe: string[],
): Promise<() => Promise<void>> {
  const pid = pidOf(daemon);
  process.kill(pid, 'SIGTERM');
  await waitFor(async () => !isAlive(pid), { timeoutMs: 30_000, what: `${daemon} to stop` });
  let isRestored = false;
  return async () => {
    if (isRestored) return;
    isRestored = true;
    // Started with every descriptor above stderr closed: a daemon must not inherit a caller's lock.
    await execa(
      'bash',
      [
        '-c',
        `for fd in /proc/$$/fd/*; do n=$(basename "$fd"); if ((n > 2)); then eval "exec $n>&-"; fi; done; exec ${start}`,
      ],
      { env: clusterEnv(), cwd: '/', stdio: 'ignore' },
    );
    await waitFor(
      async () => {
        const answer = await execa(probe[0]!, probe.slice(1), { env: clusterEnv(), reject: false });
        return answer.exitCode === 0 && !/DOWN/.test(answer.stdout);
      },
      { timeoutMs: 60_000, what: `${daemon} to answer again` },
    );
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
