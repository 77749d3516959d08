import { hostname } from 'node:os';
import { logger } from '../log.js';
import type { JobInfo, Scheduler } from '../scheduler/scheduler.js';
import type { JobStore, LaunchJobRecord, LaunchRecord } from './store.js';

/**
 * Submits whose outcome is unknown: sbatch's answer was lost (`ambiguous`), or the process that
 * wrote `planned`/`submitting` died. Such a job is resolved by its tag, never by submitting again:
 * found → submitted (a duplicate under the same tag is cancelled); absent once a submit could no
 * longer land → failed. A launch that queued nothing for certain frees its idempotency key.
 */

/** A lost submit not listed under its tag after this long never reached SLURM (an orphaned sbatch gives up well before). */
export const SUBMIT_SETTLE_MS = 180_000;
/** An owner older than this is not trusted to be alive (its pid may have been reused). */
const OWNER_MAX_AGE_MS = 30 * 60_000;

export interface RecoveryDeps {
  store: JobStore;
  schedulerOf(record: LaunchRecord): Scheduler;
  /** How long a lost submit may still land (default SUBMIT_SETTLE_MS). */
  settleMs?: number;
  /** Look up the tags of one launch at most this often (readers that poll, such as status); 0 = every time. */
  lookupIntervalMs?: number;
  now?: () => number;
}

/** Launches this process is submitting right now (a record owned by our pid but absent here was stranded by an earlier process). */
const launchesInFlight = new Set<string>();

/** Run a launch's submission as its owner: the record names this process, and readers wait for it. */
export async function submitAsOwner<T>(launchId: string, work: () => Promise<T>): Promise<T> {
  launchesInFlight.add(launchId);
  try {
    return await work();
  } finally {
    launchesInFlight.delete(launchId);
  }
}

/** The process that launches, as recorded in the launch (its pid on this host). */
export function currentOwner(): NonNullable<LaunchRecord['owner']> {
  return { pid: process.pid, host: hostname() };
}

export class LaunchRecovery {
  private readonly lastLookups = new Map<string, number>();

  constructor(private readonly deps: RecoveryDeps) {}

  /** True while some job of the launch has neither an id nor a final failure. */
  static isUnsettled(record: LaunchRecord): boolean {
    return record.jobs.some((job) => !isSettled(job));
  }

  /** True while the launching process still works on it (its unsettled jobs are in flight). */
  isOwnerAlive(record: LaunchRecord): boolean {
    const owner = record.owner;
    if (!owner) return false;
    if (this.now() - Date.parse(record.created_at) > OWNER_MAX_AGE_MS) return false;
    if (owner.host !== hostname()) return true;
    if (owner.pid === process.pid) return launchesInFlight.has(record.launch_id);
    try {
      process.kill(owner.pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  /**
   * Resolve the unsettled jobs of one launch that nobody is submitting any more. Returns the
   * record as it now stands; jobs still unknown (SLURM unreachable, or a submit that may still
   * land) stay as they are for the next reader.
   */
  async resolve(record: LaunchRecord, options: { signal?: AbortSignal } = {}): Promise<LaunchRecord> {
    if (!LaunchRecovery.isUnsettled(record)) return record;
    const isStranded = !this.isOwnerAlive(record);
    const lastLookup = this.lastLookups.get(record.launch_id) ?? Number.NEGATIVE_INFINITY;
    if (this.now() - lastLookup < (this.deps.lookupIntervalMs ?? 0)) return record;
    this.lastLookups.set(record.launch_id, this.now());
    const lookups = new Map<number, JobInfo[] | undefined>();
    for (const job of record.jobs) {
      const isLost = job.state === 'ambiguous' || (isStranded && job.state === 'submitting');
      if (!isLost) continue;
      lookups.set(job.index, await this.lookUpTag(record, job, options.signal));
    }
    if (lookups.size === 0 && !isStranded) return record;
    const settleMs = this.deps.settleMs ?? SUBMIT_SETTLE_MS;
    const duplicates: string[] = [];
    const updated = await this.deps.store.update(record.launch_id, (r) => {
      for (const job of r.jobs) {
        if (isSettled(job)) continue;
        if (job.state === 'planned' && isStranded) {
          job.state = 'failed';
          job.error = 'Not submitted: the process launching it stopped before it reached sbatch.';
          continue;
        }
        if (!lookups.has(job.index)) continue;
        const found = lookups.get(job.index);
        if (found === undefined) continue;
        const [kept, ...extra] = found;
        if (kept) {
          job.job_id = kept.jobId;
          job.state = 'submitted';
          delete job.error;
          duplicates.push(...extra.map((info) => info.jobId));
          continue;
        }
        const since = Date.parse(job.submitting_since ?? r.created_at);
        if (this.now() - since < settleMs) continue;
        job.state = 'failed';
        job.error = `sbatch never queued this job: no job carries its tag ${job.tag} ${Math.round((this.now() - since) / 1000)} s after the submit.`;
      }
    });
    for (const jobId of duplicates) await this.cancelDuplicate(updated, jobId);
    if (updated.jobs.every((job) => job.state === 'failed') && updated.idempotency_key !== undefined) {
      await this.deps.store.releaseIdempotencyKey(updated.idempotency_key, updated.launch_id);
    }
    return updated;
  }

  /** Resolve every recorded launch left unsettled by a lost answer or a dead process. */
  async resolveAll(records: readonly LaunchRecord[], options: { signal?: AbortSignal } = {}) {
    const resolved: LaunchRecord[] = [];
    for (const record of records) {
      if (!LaunchRecovery.isUnsettled(record)) {
        resolved.push(record);
        continue;
      }
      resolved.push(
        await this.resolve(record, options).catch((error: unknown) => {
          logger.warn({ err: error, launchId: record.launch_id }, 'could not resolve an unsettled launch');
          return record;
        }),
      );
    }
    return resolved;
  }

  /** Our jobs under this exact tag, oldest first; undefined when SLURM cannot be asked now. */
  private async lookUpTag(
    record: LaunchRecord,
    job: LaunchJobRecord,
    signal?: AbortSignal,
  ): Promise<JobInfo[] | undefined> {
    try {
      const found = await this.deps.schedulerOf(record).findTaggedJobs(job.tag, { signal });
      return found.filter((info) => info.comment === job.tag).sort((a, b) => compareJobIds(a.jobId, b.jobId));
    } catch (error) {
      logger.info({ err: error, tag: job.tag }, 'the tag of a lost submit cannot be looked up yet');
      return undefined;
    }
  }

  /** Two jobs under one tag: sbatch's request went through twice; the later one is the duplicate. */
  private async cancelDuplicate(record: LaunchRecord, jobId: string): Promise<void> {
    logger.warn({ jobId, launchId: record.launch_id }, 'cancelling a duplicate submission of one job');
    await this.deps
      .schedulerOf(record)
      .cancel(jobId)
      .catch((error: unknown) => logger.warn({ err: error, jobId }, 'could not cancel a duplicate job'));
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }
}

function isSettled(job: LaunchJobRecord): boolean {
  return job.job_id !== undefined || job.state === 'failed';
}

function compareJobIds(a: string, b: string): number {
  return Number.parseInt(a, 10) - Number.parseInt(b, 10) || a.localeCompare(b);
}
