import type {
  CancelResultView,
  JobStatusView,
  LaunchResultView,
  LogChunkView,
  MetricsSnapshotView,
  WaitTarget,
} from './types.js';

/**
 * What the MCP tools, resources, prompts and the CLI ask of the job service. The implementation
 * (src/jobs/service.ts) renders, submits, records and watches jobs through a Scheduler.
 */
export interface WaitProgress {
  elapsed_s: number;
  /** Short human line, e.g. "job 12: starting (1/2 replicas healthy)". */
  message: string;
  statuses: JobStatusView[];
}

export interface WaitResult {
  reached: boolean;
  timed_out: boolean;
  statuses: JobStatusView[];
}

export interface JobServiceApi {
  /** Render, write, submit (chains in order) and record; returns at once. `request` is a LaunchRequest (src/domain/launch-spec.ts). */
  launch(
    request: unknown,
    options?: { dryRun?: boolean; idempotencyKey?: string; signal?: AbortSignal },
  ): Promise<LaunchResultView>;
  /** Status of the given jobs, or of all my sml-mcp jobs (found through SLURM tags) when none given. */
  status(jobIds: readonly string[] | undefined, options?: { signal?: AbortSignal }): Promise<JobStatusView[]>;
  /** Poll until every job reached `target` (or ended first), the timeout passes, or the signal aborts. */
  waitFor(
    jobIds: readonly string[],
    target: WaitTarget,
    options: {
      timeoutS: number;
      signal?: AbortSignal;
      onProgress?: (progress: WaitProgress) => void | Promise<void>;
    },
  ): Promise<WaitResult>;
  /** Incremental or tail read of one log file of a job (`log.out`, `replica_0.err`, `router.out`, …). */
  readLog(
    jobId: string,
    file: string,
    options?: { cursor?: number; tailLines?: number; maxBytes?: number; signal?: AbortSignal },
  ): Promise<LogChunkView>;
  /** The log files a job has (or will have), known from its spec. */
  listLogFiles(jobId: string): Promise<string[]>;
  /** Cancel a job (and, with wholeChain, every job of its chain). Refuses jobs sml-mcp did not launch unless allowForeign. */
  cancel(
    jobId: string,
    options?: { wholeChain?: boolean; allowForeign?: boolean; signal?: AbortSignal },
  ): Promise<CancelResultView[]>;
  /** What a cancel would do, for a confirmation question. */
  describeCancel(
    jobId: string,
    options?: { wholeChain?: boolean },
  ): Promise<{ job_ids: string[]; summary: string; is_ours: boolean }>;
  /** The rendered scripts of a recorded job. */
  scripts(jobId: string): Promise<Record<string, string>>;
  metrics(jobId: string, options?: { signal?: AbortSignal }): Promise<MetricsSnapshotView>;
  /** Recorded job ids, newest first (cheap; used for completion and resource lists). */
  knownJobIds(): Promise<string[]>;
}
