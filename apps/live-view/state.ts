import {
  compareForDisplay,
  type DeploymentFigures,
  summarizeDeployment,
} from '../../src/jobs/live-figures.js';
import type { JobStatusView, LogChunkView, MetricsSnapshotView } from '../../src/jobs/types.js';

/**
 * What the live view knows, fed only by tool results and resources the host relays. No DOM here:
 * the fast tests drive it directly.
 */

/** Points kept per chart: 90 refreshes ≈ 6 minutes at the default pace. */
export const HISTORY_POINTS = 90;
/** The log view keeps the newest 200 KB; a following view needs the end, not the whole file. */
export const LOG_KEEP_CHARS = 200_000;
export const DEFAULT_LOG_FILE = 'log.out';
/** Ended jobs listed before "show all": SLURM remembers a day of them. */
export const ENDED_JOBS_SHOWN = 5;

export interface LogView {
  jobId: string;
  file: string;
  /** Byte offset of the next read; undefined until the first (tail) read. */
  cursor: number | undefined;
  text: string;
  files: string[];
  isMissing: boolean;
  error: string | undefined;
}

/** A cancel asked of the server that needs the person's word (the server's CONFIRMATION_REQUIRED). */
export interface PendingCancel {
  jobId: string;
  question: string;
}

export class LiveState {
  jobs: JobStatusView[] = [];
  selectedJobId: string | undefined;
  /** Set when the person picked a job, so a refresh never moves the selection away. */
  isSelectionPinned = false;
  readonly histories = new Map<string, DeploymentFigures[]>();
  log: LogView | undefined;
  pendingCancel: PendingCancel | undefined;
  /** The outcome of the last cancel, as the server worded it. */
  notice: string | undefined;
  isShowingAllEnded = false;
  /** Why the last refresh failed; cleared by the next that works. */
  error: string | undefined;
  updatedAt: Date | undefined;

  /** A new status list; keeps the selection, or picks the newest job still running. */
  setJobs(jobs: JobStatusView[], now = new Date()): void {
    this.jobs = [...jobs].sort(compareForDisplay);
    this.updatedAt = now;
    const selected = this.selectedJob();
    // A job the person chose stays selected; an automatic choice moves on once its job ended.
    if (selected && (this.isSelectionPinned || selected.phase !== 'ended')) return;
    this.selectedJobId = (this.jobs.find((job) => job.phase !== 'ended') ?? selected ?? this.jobs[0])?.job_id;
  }

  /** The person (or the tool call that opened the view) chose a job. */
  select(jobId: string): void {
    this.selectedJobId = jobId;
    this.isSelectionPinned = true;
    this.pendingCancel = undefined;
  }

  /** The jobs to list: all running or queued ones, the newest ended ones (all when asked). */
  listedJobs(): { jobs: JobStatusView[]; hiddenEnded: number } {
    const live = this.jobs.filter((job) => job.phase !== 'ended');
    const ended = this.jobs.filter((job) => job.phase === 'ended');
    // The selected job stays listed even when it is an older ended one.
    const shown = this.isShowingAllEnded
      ? ended
      : ended.filter((job, i) => i < ENDED_JOBS_SHOWN || job.job_id === this.selectedJobId);
    return { jobs: [...live, ...shown], hiddenEnded: ended.length - shown.length };
  }

  selectedJob(): JobStatusView | undefined {
    return this.jobs.find((job) => job.job_id === this.selectedJobId);
  }

  /** Every job of the selected job's launch (a chain), in chain order. */
  chainOf(job: JobStatusView): JobStatusView[] {
    if (job.chain_length <= 1 || !job.launch_id) return [job];
    return this.jobs
      .filter((other) => other.launch_id === job.launch_id)
      .sort((a, b) => a.chain_index - b.chain_index);
  }

  addSnapshot(snapshot: MetricsSnapshotView): DeploymentFigures {
    const history = this.histories.get(snapshot.job_id) ?? [];
    const figures = summarizeDeployment(snapshot, history[history.length - 1]);
    history.push(figures);
    if (history.length > HISTORY_POINTS) history.splice(0, history.length - HISTORY_POINTS);
    this.histories.set(snapshot.job_id, history);
    return figures;
  }

  historyOf(jobId: string): DeploymentFigures[] {
    return this.histories.get(jobId) ?? [];
  }

  /** The arguments of the next logs call: a tail the first time, then from the cursor (follow). */
  nextLogRead(jobId: string, file?: string): Record<string, unknown> {
    const wanted = file ?? (this.log?.jobId === jobId ? this.log.file : DEFAULT_LOG_FILE);
    if (!this.log || this.log.jobId !== jobId || this.log.file !== wanted) {
      this.log = {
        jobId,
        file: wanted,
        cursor: undefined,
        text: '',
        files: this.log?.jobId === jobId ? this.log.files : [],
        isMissing: false,
        error: undefined,
      };
    }
    return this.log.cursor === undefined
      ? { job_id: jobId, file: wanted, tail_lines: 200 }
      : { job_id: jobId, file: wanted, cursor: this.log.cursor };
  }

  addLogChunk(chunk: LogChunkView & { files?: string[] }): void {
    const log = this.log;
    if (!log || log.jobId !== chunk.job_id || log.file !== chunk.file) return;
    log.text = (log.cursor === undefined ? chunk.text : log.text + chunk.text).slice(-LOG_KEEP_CHARS);
    log.cursor = chunk.next_cursor;
    log.isMissing = chunk.is_missing;
    log.error = undefined;
    if (chunk.files) log.files = chunk.files;
  }
}
