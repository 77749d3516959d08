import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransferEvent } from '../src/scheduler/slurm/index.js';
import { BENCH_LAUNCH, localJobService } from './local-cluster.js';

/**
 * Scheduler calls per second for N followers of one job, each doing what `logs -f` does (read new
 * log output, ask status every 2 s), each with its own job service on one state directory (as N
 * `sml-mcp logs -f` processes are; N clients of one server share even more). Prints the figure
 * with shared status sweeps and without (every follower its own squeue, as before). Needs the local
 * cluster. Run: `npm run build && node dist/bench/status-followers.js [N=5] [SECONDS=20]`.
 */

const followers = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 20);
const FOLLOW_INTERVAL_MS = 2000;
const SCHEDULER_PROGRAMS = new Set(['squeue', 'sacct', 'scontrol', 'sbatch', 'scancel']);

async function measure(statusSweepTtlMs: number | undefined): Promise<number> {
  const events: TransferEvent[] = [];
  const stateDir = mkdtempSync(join(tmpdir(), 'sml-bench-followers-'));
  const services = Array.from(
    { length: followers },
    () => localJobService({ onTransfer: (event) => events.push(event), statusSweepTtlMs, stateDir }).service,
  );
  const launched = await services[0]!.launch({ ...BENCH_LAUNCH, time: '00:05:00' }, {});
  const jobId = launched.job_ids[0]!;
  try {
    await services[0]!.waitFor([jobId], 'running', { timeoutS: 120 });
    events.length = 0;
    const deadline = Date.now() + seconds * 1000;
    const follow = async (index: number) => {
      const service = services[index]!;
      await new Promise((resolve) => setTimeout(resolve, (index * FOLLOW_INTERVAL_MS) / followers));
      let cursor = 0;
      while (Date.now() < deadline) {
        cursor = (await service.readLog(jobId, 'log.out', { cursor })).next_cursor;
        await service.status([jobId]);
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
      }
    };
    await Promise.all(services.map((_, index) => follow(index)));
    return events.filter((event) => SCHEDULER_PROGRAMS.has(event.program)).length / seconds;
  } finally {
    await services[0]!.cancel(jobId);
  }
}

const unshared = await measure(0);
process.stdout.write(
  `before: ${followers} followers for ${seconds} s, each its own status sweep: ${unshared.toFixed(2)} scheduler calls/s\n`,
);
const shared = await measure(undefined);
process.stdout.write(
  `now: ${followers} followers for ${seconds} s, sharing status sweeps: ${shared.toFixed(2)} scheduler calls/s\n`,
);
