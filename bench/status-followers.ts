import type { TransferEvent } from '../src/scheduler/slurm/index.js';
import { BENCH_LAUNCH, localJobService } from './local-cluster.js';

/**
 * Scheduler calls per second for N followers of one job on one server, each doing what
 * `logs -f` does (read new log output, ask status every 2 s). Prints the figure with the shared
 * status sweep and without it (every follower its own squeue, as before). Needs the local cluster.
 * Run: `npm run build && node dist/bench/status-followers.js [N=5] [SECONDS=20]`.
 */

const followers = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 20);
const FOLLOW_INTERVAL_MS = 2000;
const SCHEDULER_PROGRAMS = new Set(['squeue', 'sacct', 'scontrol', 'sbatch', 'scancel']);

async function measure(statusSweepTtlMs: number | undefined): Promise<number> {
  const events: TransferEvent[] = [];
  const { service } = localJobService({ onTransfer: (event) => events.push(event), statusSweepTtlMs });
  const launched = await service.launch({ ...BENCH_LAUNCH, time: '00:05:00' }, {});
  const jobId = launched.job_ids[0]!;
  try {
    await service.waitFor([jobId], 'running', { timeoutS: 120 });
    events.length = 0;
    const deadline = Date.now() + seconds * 1000;
    const follow = async (offsetMs: number) => {
      await new Promise((resolve) => setTimeout(resolve, offsetMs));
      let cursor = 0;
      while (Date.now() < deadline) {
        const chunk = await service.readLog(jobId, 'log.out', { cursor });
        cursor = chunk.next_cursor;
        await service.status([jobId]);
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
      }
    };
    await Promise.all(
      Array.from({ length: followers }, (_, i) => follow((i * FOLLOW_INTERVAL_MS) / followers)),
    );
    const calls = events.filter((event) => SCHEDULER_PROGRAMS.has(event.program)).length;
    return calls / seconds;
  } finally {
    await service.cancel(jobId);
  }
}

const unshared = await measure(0);
process.stdout.write(
  `${followers} followers for ${seconds} s, each its own status sweep: ${unshared.toFixed(2)} scheduler calls/s\n`,
);
const shared = await measure(undefined);
process.stdout.write(
  `${followers} followers for ${seconds} s, one shared status sweep: ${shared.toFixed(2)} scheduler calls/s\n`,
);
