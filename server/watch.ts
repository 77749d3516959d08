import { parseJobUri } from '../resources/uris.js';
import type { JobServiceApi } from '../src/jobs/api.js';
import { logger } from '../src/log.js';

/**
 * Watches the resources one session subscribed to: a log file that grows, or a job whose state
 * changes, triggers `notify(uri)`. One unref'd interval per session, stopped when nothing is
 * subscribed and on close; one tick at a time, so a slow cluster never piles up reads.
 */

type Watched =
  | { kind: 'log'; jobId: string; file: string; size: number | undefined }
  | { kind: 'job'; jobId: string; fingerprint: string | undefined; summary: string | undefined };

export class ResourceWatcher {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private isTicking = false;
  private isClosed = false;

  constructor(
    private readonly jobs: JobServiceApi,
    /** `change` describes a job's transition for people ("job 12: starting → serving"). */
    private readonly notify: (uri: string, change?: string) => Promise<void>,
    private readonly intervalMs: number,
    private readonly redact: (text: string) => string = (text) => text,
  ) {}

  /** Start watching; returns false when the URI is not a watchable resource. */
  async subscribe(uri: string): Promise<boolean> {
    const parsed = parseJobUri(uri);
    if (!parsed || (parsed.kind !== 'log' && parsed.kind !== 'job')) return false;
    const entry: Watched =
      parsed.kind === 'log'
        ? { kind: 'log', jobId: parsed.jobId, file: parsed.file, size: undefined }
        : { kind: 'job', jobId: parsed.jobId, fingerprint: undefined, summary: undefined };
    // The baseline: only changes after the subscription are reported.
    await this.check(uri, entry, false);
    if (this.isClosed) return true;
    this.watched.set(uri, entry);
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    return true;
  }

  unsubscribe(uri: string): void {
    this.watched.delete(uri);
    if (this.watched.size === 0) this.stopTimer();
  }

  close(): void {
    this.isClosed = true;
    this.watched.clear();
    this.stopTimer();
  }

  get size(): number {
    return this.watched.size;
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.isTicking) return;
    this.isTicking = true;
    try {
      for (const [uri, entry] of [...this.watched]) {
        if (this.isClosed) return;
        try {
          await this.check(uri, entry, true);
        } catch (error) {
          logger.debug(
            { uri, err: this.redact(error instanceof Error ? error.message : String(error)) },
            'watch check failed',
          );
        }
      }
    } finally {
      this.isTicking = false;
    }
  }

  private async check(uri: string, entry: Watched, shouldNotify: boolean): Promise<void> {
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
      const [status] = await this.jobs.status([entry.jobId]);
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
    if (hasChanged && shouldNotify && this.watched.has(uri)) await this.notify(uri, change);
  }
}
