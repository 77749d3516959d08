import type { SystemProfile } from '../domain/system.js';
import { logger } from '../log.js';
import type { JobInfo, Scheduler } from '../scheduler/scheduler.js';
import type { JobStore } from './store.js';

/** How long one scheduler sweep answers every status caller (the pollers ask every 2 s). */
const STATUS_SWEEP_TTL_MS = 1500;

interface Sweep {
  ids: Set<string>;
  result: Promise<Map<string, JobInfo>>;
  settledAt?: number;
}

/**
 * One scheduler sweep per system answers every status caller at once: in this process while it
 * runs (and for a TTL after), in other processes on the same state through the job store.
 */
export class StatusSweeps {
  /** The last status sweep per system: callers asking while it runs share it. */
  private readonly sweeps = new Map<string, Sweep>();

  constructor(private readonly deps: { store: JobStore; now: () => number; ttlMs?: number }) {}

  /**
   * The scheduler's answer for these jobs, shared: every caller asking while a sweep runs, or within
   * the sweep TTL after, gets that sweep, in this process or (through the job store) in any other
   * on the same state: log followers, waits and watchers poll the same jobs.
   */
  sweep(system: SystemProfile, scheduler: Scheduler, ids: readonly string[]): Promise<Map<string, JobInfo>> {
    const ttl = this.deps.ttlMs ?? STATUS_SWEEP_TTL_MS;
    const recent = this.sweeps.get(system.name);
    const isInFlight = recent !== undefined && recent.settledAt === undefined;
    if (recent && isInFlight && ids.every((id) => recent.ids.has(id))) return recent.result;
    // A settled sweep is shared through the store (so another process's cancel is seen at once);
    // a new sweep also covers what the last one did, so pollers of different jobs keep sharing.
    const isRecent = recent !== undefined && (isInFlight || this.deps.now() - recent.settledAt! < ttl);
    const covered = [...new Set(isRecent ? [...recent!.ids, ...ids] : ids)];
    const entry: Sweep = {
      ids: new Set(covered),
      result: this.sweepOnce(system.name, scheduler, covered, ttl),
    };
    this.sweeps.set(system.name, entry);
    entry.result.then(
      () => {
        entry.settledAt = this.deps.now();
      },
      () => {
        if (this.sweeps.get(system.name) === entry) this.sweeps.delete(system.name);
      },
    );
    return entry.result;
  }

  /** Another process's sweep of the same state when it is fresh and covers `ids`, else a new one, shared in turn. */
  private async sweepOnce(
    system: string,
    scheduler: Scheduler,
    ids: readonly string[],
    ttl: number,
  ): Promise<Map<string, JobInfo>> {
    const shared = ttl > 0 ? await this.deps.store.readSweep(system) : undefined;
    if (shared && this.deps.now() - shared.at < ttl && ids.every((id) => shared.ids.includes(id)))
      return new Map(shared.jobs.filter((job) => ids.includes(job.jobId)).map((job) => [job.jobId, job]));
    const jobs = await scheduler.statuses(ids);
    if (ttl > 0) {
      await this.deps.store
        .writeSweep(system, { at: this.deps.now(), ids: [...ids], jobs: [...jobs.values()] })
        .catch((error: unknown) => logger.debug({ err: error }, 'status sweep not shared'));
    }
    return jobs;
  }

  async forget(system: string): Promise<void> {
    this.sweeps.delete(system);
    await this.deps.store.removeSweep(system);
  }
}
