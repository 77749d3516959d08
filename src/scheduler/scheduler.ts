/**
 * The one seam to a cluster. Everything sml-mcp does on a cluster goes through a Scheduler:
 * the SLURM CLI run locally, the same over SSH, or the FirecREST v2 REST gateway. No code
 * outside a backend touches the cluster's filesystem: with FirecREST the files are remote.
 */

/** Every state SLURM reports (base state, without flags such as `+` or `by <uid>`). */
export const SLURM_STATES = [
  'PENDING',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'OUT_OF_MEMORY',
  'BOOT_FAIL',
  'DEADLINE',
  'SUSPENDED',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'RESIZING',
  'REVOKED',
  'SIGNALING',
  'SPECIAL_EXIT',
  'STAGE_OUT',
  'STOPPED',
  'RESV_DEL_HOLD',
  'UNKNOWN',
] as const;
export type SlurmState = (typeof SLURM_STATES)[number];

/** What the scheduler knows of one job. Times are ISO 8601 strings (cluster local time as SLURM prints it with SLURM_TIME_FORMAT=standard, or UTC with `Z` when the source gives epochs). */
export interface JobInfo {
  jobId: string;
  state: SlurmState;
  /** The state as the scheduler printed it, e.g. `CANCELLED by 0`. */
  rawState: string;
  /** Why a job is pending or how it ended (SLURM's reason), when given. */
  reason?: string;
  name?: string;
  comment?: string;
  user?: string;
  account?: string;
  partition?: string;
  submitTime?: string;
  startTime?: string;
  endTime?: string;
  /** Time limit as SLURM prints it, e.g. `02:00:00`. */
  timeLimit?: string;
  /** Allocated node hostnames, expanded (n1, n2, …). */
  nodes?: string[];
  /** Exit code as `code:signal`, when the job has ended. */
  exitCode?: string;
  /** What the scheduler could not tell for sure this time (e.g. accounting down), for people. */
  note?: string;
}

export interface SubmitRequest {
  /** The whole batch script, `#!/bin/bash` and `#SBATCH` directives included. */
  script: string;
  /** Absolute path on the cluster where the script is written before it is submitted. */
  scriptPath: string;
  /** Absolute working directory of the job (`--chdir`); relative `--output` paths resolve here. */
  workingDir: string;
  /** The tag written into `--comment`, used to find this submission again after an ambiguous failure. */
  tag: string;
  /**
   * Secret variables for the job's environment (e.g. HF_TOKEN): handed to sbatch out of band
   * (stdin, or FirecREST's `env`), never written into the script, a file or a command line.
   */
  secretEnv?: Readonly<Record<string, string>>;
}

export interface SubmitResult {
  jobId: string;
}

export interface CancelResult {
  jobId: string;
  /** True when the job had already ended: cancel is idempotent and this is success. */
  alreadyEnded: boolean;
  note?: string;
}

export interface FileChunk {
  /** Raw bytes read from `offset`; may end inside a UTF-8 sequence (see decodeUtf8Prefix). */
  data: Buffer;
  /** Size of the whole file at the time of the read. */
  size: number;
}

export interface Partition {
  name: string;
  isDefault: boolean;
  state?: string;
  /** Maximum wall time as SLURM prints it (`UNLIMITED`, `1-00:00:00`, `00:30:00`). */
  maxTime?: string;
  totalNodes?: number;
  nodes?: string;
}

export interface Reservation {
  name: string;
  state?: string;
  startTime?: string;
  endTime?: string;
  nodes?: string;
  partition?: string;
  users?: string[];
  accounts?: string[];
}

export interface Identity {
  user: string;
  /** The account SLURM charges when none is given (FirecREST: the user's default account, else group). */
  defaultAccount?: string;
  /** Where defaultAccount came from, e.g. "sacctmgr DefaultAccount". */
  accountSource?: string;
  /** Why no default account could be looked up (accounting down, no association); never guessed. */
  accountProblem?: string;
  home?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface Scheduler {
  readonly kind: 'slurm' | 'ssh' | 'firecrest';
  whoami(options?: CallOptions): Promise<Identity>;
  /** Absolute path of the user's sml working directory on the cluster (`~/.sml`). */
  workingDir(options?: CallOptions): Promise<string>;
  /**
   * Write the script and submit it. After an ambiguous failure (the answer was lost) a backend
   * looks for the job by its tag before reporting failure, and never submits blindly again; when
   * the job still may or may not exist, the SmlError has `isAmbiguous`.
   */
  submit(request: SubmitRequest, options?: CallOptions): Promise<SubmitResult>;
  /** Status of many jobs in one sweep. Jobs the scheduler no longer knows are absent from the map. */
  statuses(jobIds: readonly string[], options?: CallOptions): Promise<Map<string, JobInfo>>;
  /** The user's jobs whose `--comment` starts with `tagPrefix`, queued or recently ended. */
  findTaggedJobs(tagPrefix: string, options?: CallOptions): Promise<JobInfo[]>;
  cancel(jobId: string, options?: CallOptions): Promise<CancelResult>;
  /** Up to `maxBytes` bytes from `offset`. A missing file is an SmlError with code NOT_FOUND. */
  readFile(path: string, offset: number, maxBytes: number, options?: CallOptions): Promise<FileChunk>;
  /** Size in bytes, or undefined when the file does not exist. */
  fileSize(path: string, options?: CallOptions): Promise<number | undefined>;
  writeFile(path: string, content: string | Buffer, options?: CallOptions & { mode?: number }): Promise<void>;
  mkdir(path: string, options?: CallOptions): Promise<void>;
  partitions(options?: CallOptions): Promise<Partition[]>;
  reservations(options?: CallOptions): Promise<Reservation[]>;
}

/** Base state of a SLURM state string: `CANCELLED by 0` → CANCELLED, `COMPLETING+` → COMPLETING. */
export function parseSlurmState(raw: string): SlurmState {
  const token = raw.trim().split(/[\s+]/, 1)[0]?.toUpperCase() ?? '';
  return (SLURM_STATES as readonly string[]).includes(token) ? (token as SlurmState) : 'UNKNOWN';
}

/** States after which a job will never run again. */
export const ENDED_STATES: ReadonlySet<SlurmState> = new Set([
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'OUT_OF_MEMORY',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
]);
