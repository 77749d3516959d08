import { parseJobUri } from '../resources/uris.js';
import { SmlError } from '../src/errors.js';
import type { JobServiceApi } from '../src/jobs/api.js';
import { isUnknownJob } from '../src/jobs/lifecycle.js';
import type { JobStatusView } from '../src/jobs/types.js';
import { logger } from '../src/log.js';

/**
 * Resource subscriptions: a log file that grows, or a job whose state changes, triggers an update
 * notification. One hub per job service polls every subscribed resource once per interval, however
 * many sessions subscribed to it (the states of all watched jobs in one status call); each session
 * holds at most MAX_SUBSCRIPTIONS_PER_SESSION of them. One tick at a time, so a slow cluster never
 * piles up reads; the timer runs only while something is subscribed.
 */

export const MAX_SUBSCRIPTIONS_PER_SESSION = 50;

/** Told of a change; `change` describes a job's transition for people ("job 12: starting → serving"). */
type Listener = (uri: string, change?: string) => Promise<void>;

type Watched = { listeners: Set<Listener> } & (
  | { kind: 'log'; jobId: string; file: string; size: number | undefined }
  | { kind: 'job'; jobId: string; fingerprint: string | undefined; summary: string | undefined }
);

export class WatchHub {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private isTicking = false;

  constructor(
    private readonly jobs: JobServiceApi,
    private readonly intervalMs: number,
    private readonly redact: (text: string) => string = (text) => text,
  ) {}

  /** Resources polled now (each once, whatever the number of subscribers). */
  get size(): number {
    return this.watched.size;
  }

  /**
   * Start telling `listener` of changes to `uri`. Returns false when the URI is not a watchable
   * resource; throws NOT_FOUND for a job no one knows or a log file the job does not have.
   */
  async subscribe(uri: string, listener: Listener): Promise<boolean> {
    const shared = this.watched.get(uri);
    if (shared) {
      shared.listeners.add(listener);
      return true;
    }
    const parsed = parseJobUri(uri);
    if (!parsed || (parsed.kind !== 'log' && parsed.kind !== 'job')) return false;
    const entry: Watched =
      parsed.kind === 'log'
        ? { kind: 'log', jobId: parsed.jobId, file: parsed.file, size: undefined, listeners: new Set() }
        : {
            kind: 'job',
            jobId: parsed.jobId,
            fingerprint: undefined,
            summary: undefined,
            listeners: new Set(),
          };
    // The baseline, which also proves the resource exists: only later changes are reported.
    if (entry.kind === 'log') await this.assertLogFile(entry.jobId, entry.file);
    const [status] = entry.kind === 'job' ? await this.jobs.status([entry.jobId]) : [];
    if (entry.kind === 'job' && isUnknownJob(status)) throw unknownJob(entry.jobId);
    await this.check(uri, entry, status, false);
    // Another session may have subscribed while this one read its baseline.
    const raced = this.watched.get(uri);
    (raced ?? entry).listeners.add(listener);
    if (!raced) this.watched.set(uri, entry);
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    return true;
  }

  unsubscribe(uri: string, listener: Listener): void {
    const entry = this.watched.get(uri);
    if (!entry) return;
    entry.listeners.delete(listener);
    if (entry.listeners.size > 0) return;
    this.watched.delete(uri);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async assertLogFile(jobId: string, file: string): Promise<void> {
    if ((await this.jobs.knownJobIds()).includes(jobId)) {
      const files = await this.jobs.listLogFiles(jobId);
      if (!files.includes(file)) {
        throw new SmlError('NOT_FOUND', `Job ${jobId} has no log file named ${file}.`, {
          hint: `Its log files: ${files.join(', ')}.`,
        });
      }
      return;
    }
    const [status] = await this.jobs.status([jobId]);
    if (isUnknownJob(status)) throw unknownJob(jobId);
  }

  private async tick(): Promise<void> {
    if (this.isTicking) return;
    this.isTicking = true;
    try {
      const entries = [...this.watched];
      const jobIds = [...new Set(entries.flatMap(([, e]) => (e.kind === 'job' ? [e.jobId] : [])))];
      // Every watched job's state in one call: one scheduler query per tick, not one per subscriber.
      let statuses: Map<string, JobStatusView> | undefined;
      if (jobIds.length > 0) {
        try {
          statuses = new Map((await this.jobs.status(jobIds)).map((s) => [s.job_id, s]));
        } catch (error) {
          this.logFailure('job states', error);
        }
      }
      for (const [uri, entry] of entries) {
        if (!this.watched.has(uri)) continue;
        if (entry.kind === 'job' && !statuses) continue;
        try {
          await this.check(uri, entry, statuses?.get(entry.jobId), true);
        } catch (error) {
          this.logFailure(uri, error);
        }
      }
    } finally {
      this.isTicking = false;
    }
  }

  private logFailure(what: string, error: unknown): void {
    logger.debug(
      { what, err: this.redact(error instanceof Error ? error.message : String(error)) },
      'watch check failed',
    );
  }

  private async check(
    uri: string,
    entry: Watched,
    status: JobStatusView | undefined,
    shouldNotify: boolean,
  ): Promise<void> {
    let hasChanged = false;
    let change: string | undefined;
    if (entry.kind === 'log') {
      // One byte from the last known end: cheap, and the answer carries the current size.
      const chunk = await this.jobs.readLog(entry.jobId, entry.file, {
        cursor: entry.size ?? 0,
        maxBytes: 1,
      });
      const size = chunk.is_missing ? 0 : chunk.size;
      hasChanged = entry.size !== undefined && size !== entry.size;
      entry.size = size;
    } else {
      const fingerprint = status
        ? [status.phase, status.slurm_state, status.replicas_healthy, status.endpoints.length].join('|')
        : 'gone';
      const summary = status
        ? `${status.phase}${status.end_reason ? ` (${status.end_reason})` : ''}, ${status.replicas_healthy}/${status.replicas_expected} replicas healthy`
        : 'gone';
      hasChanged = entry.fingerprint !== undefined && fingerprint !== entry.fingerprint;
      if (hasChanged) change = `job ${entry.jobId}: ${entry.summary} → ${summary}`;
      entry.fingerprint = fingerprint;
      entry.summary = summary;
    }
    if (!hasChanged || !shouldNotify) return;
    await Promise.all([...entry.listeners].map((listener) => listener(uri, change).catch(() => undefined)));
  }
}

function unknownJob(jobId: string): SmlError {
  return new SmlError('NOT_FOUND', `Job ${jobId} is not known to sml-mcp or to SLURM.`, {
    hint: 'Subscribe to a job listed by sml://jobs (or by status).',
  });
}

const hubs = new WeakMap<JobServiceApi, WatchHub>();

/** The one hub of a job service, shared by every session built on it. */
export function watchHubFor(
  jobs: JobServiceApi,
  intervalMs: number,
  redact?: (text: string) => string,
): WatchHub {
  let hub = hubs.get(jobs);
  if (!hub) {
    hub = new WatchHub(jobs, intervalMs, redact);
    hubs.set(jobs, hub);
  }
  return hub;
}

/** One session's subscriptions on the shared hub, at most MAX_SUBSCRIPTIONS_PER_SESSION. */
export class ResourceWatcher {
  private readonly uris = new Set<string>();
  private isClosed = false;

  constructor(
    private readonly hub: WatchHub,
    private readonly notify: Listener,
    private readonly maxSubscriptions = MAX_SUBSCRIPTIONS_PER_SESSION,
  ) {}

  /** Start watching; returns false when the URI is not a watchable resource. */
  async subscribe(uri: string): Promise<boolean> {
    if (this.uris.has(uri)) return true;
    if (this.uris.size >= this.maxSubscriptions) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `This session already holds ${this.uris.size} subscriptions, the most one session may have.`,
        {
          hint: 'Unsubscribe from resources you no longer follow (jobs that ended, logs read), then subscribe again.',
        },
      );
    }
    const isWatchable = await this.hub.subscribe(uri, this.notify);
    if (!isWatchable) return false;
    if (this.isClosed) this.hub.unsubscribe(uri, this.notify);
    else this.uris.add(uri);
    return true;
  }

  unsubscribe(uri: string): void {
    if (this.uris.delete(uri)) this.hub.unsubscribe(uri, this.notify);
  }

  close(): void {
    this.isClosed = true;
    for (const uri of this.uris) this.hub.unsubscribe(uri, this.notify);
    this.uris.clear();
  }

  get size(): number {
    return this.uris.size;
  }
}
