import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SmlError } from '../../../src/errors.js';
import { expandHostlist } from '../../../src/scheduler/hostlist.js';
import {
  type CallOptions,
  type CancelResult,
  ENDED_STATES,
  type FileChunk,
  type Identity,
  type JobInfo,
  type Partition,
  type Reservation,
  type Scheduler,
  type SlurmState,
  type SubmitRequest,
  type SubmitResult,
} from '../../../src/scheduler/scheduler.js';
import { requireAbsolute, requireJobId, requireReadRange } from '../../../src/scheduler/slurm/backend.js';

/**
 * An in-memory Scheduler for the fast tier: the contract of src/scheduler/scheduler.ts as the SLURM
 * backend keeps it on a real cluster, without one. Jobs go PENDING → RUNNING → ended(state, exit
 * code) and stay known to "accounting" afterwards; `#SBATCH` directives of the script are read
 * (name, comment tag, partition, reservation, account, time, nodes, output, dependency); nodes are
 * allocated whole and exclusively, so a job waits for Resources like on the four-node cluster; files
 * live in a map with byte offsets and sizes; arguments go through the SLURM backend's own checks.
 * What a job does while it runs is a JobProgram (a function of the test) instead of bash. Fault
 * switches make calls fail, hang or lose answers.
 */

/** What a running job's program sees. Paths are absolute or relative to the job's working dir. */
export interface JobRun {
  readonly jobId: string;
  readonly request: SubmitRequest;
  readonly nodes: readonly string[];
  /** `<working dir>/logs/<job id>`, where sml-mcp's master.sh writes its logs. */
  readonly logDir: string;
  /** Aborted when the job is cancelled or ended from outside. */
  readonly signal: AbortSignal;
  append(path: string, text: string | Buffer): void;
  write(path: string, text: string | Buffer): void;
  /** Sleep that ends early (rejects) when the job is stopped. */
  sleep(ms: number): Promise<void>;
}

/** A job's behaviour: resolves its exit status (0 or nothing: COMPLETED, else FAILED). */
export type JobProgram = (run: JobRun) => Promise<number | undefined>;

export interface InMemorySchedulerOptions {
  kind?: Scheduler['kind'];
  identity?: Identity;
  /** Compute node names (default n1..n4, like test/cluster). */
  nodes?: string[];
  partitions?: Partition[];
  reservations?: Reservation[];
  /** First job id handed out (default 1000). */
  firstJobId?: number;
  /** Program of jobs without their own (default: run until cancelled or ended by the test). */
  defaultProgram?: JobProgram;
}

/** Methods of the Scheduler seam, for fault switches and the call log. */
export type SchedulerMethod = Exclude<keyof Scheduler, 'kind'>;

export interface RecordedCall {
  method: SchedulerMethod;
  args: unknown[];
}

interface JobEntry {
  info: JobInfo;
  request?: SubmitRequest;
  nodeCount: number;
  dependsOn?: string;
  program?: JobProgram;
  stop: AbortController;
  /** Accounting no longer has it (purged): statuses() and cancel() do not know it. */
  isForgotten: boolean;
  /** statuses() leaves the job out this many more times (a freshly submitted job not listed yet). */
  unlistedPolls: number;
}

/** A fault acts on `times` calls, after letting `after` calls through untouched. */
type Fault = { times: number; after: number } & (
  | { kind: 'fail'; error: SmlError }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
);

const DEFAULT_NODES = ['n1', 'n2', 'n3', 'n4'];

const DEFAULT_PARTITIONS: Partition[] = [
  { name: 'normal', isDefault: true, state: 'UP', maxTime: '1-00:00:00', totalNodes: 4, nodes: 'n[1-4]' },
  { name: 'debug', isDefault: false, state: 'UP', maxTime: '00:30:00', totalNodes: 4, nodes: 'n[1-4]' },
];

/** A program that runs until it is stopped (cancel, or an end the test sets). */
export const runUntilStopped: JobProgram = (run) =>
  new Promise((resolve) => run.signal.addEventListener('abort', () => resolve(undefined), { once: true }));

export class InMemoryScheduler implements Scheduler {
  readonly kind: Scheduler['kind'];
  /** Every call made through the seam, in order (tests assert batching and that nothing was submitted). */
  readonly calls: RecordedCall[] = [];
  /** Programs by job tag (`--comment`), looked up when a job starts. */
  readonly programs = new Map<string, JobProgram>();
  defaultProgram: JobProgram;
  /** When true, jobs stay PENDING (reason Priority) until start() or releaseQueue(). */
  isQueueHeld = false;

  private readonly identity: Identity;
  private readonly nodes: string[];
  private readonly partitionList: Partition[];
  private readonly reservationList: Reservation[];
  private readonly jobs = new Map<string, JobEntry>();
  private readonly files = new Map<string, { data: Buffer; mode: number }>();
  private readonly dirs = new Set<string>(['/']);
  private readonly faults = new Map<SchedulerMethod | '*', Fault[]>();
  private nextJobId: number;
  private isUnreachable = false;
  private readonly lostSubmits: { isQueued: boolean }[] = [];

  constructor(options: InMemorySchedulerOptions = {}) {
    this.kind = options.kind ?? 'slurm';
    this.identity = options.identity ?? { user: 'root', defaultAccount: 'sml-test', home: '/root' };
    this.nodes = options.nodes ?? DEFAULT_NODES;
    this.partitionList = options.partitions ?? DEFAULT_PARTITIONS;
    this.reservationList = options.reservations ?? [];
    this.nextJobId = options.firstJobId ?? 1000;
    this.defaultProgram = options.defaultProgram ?? runUntilStopped;
    this.mkdirs(this.identity.home ?? '/root');
  }

  // ——— the Scheduler seam ———

  async whoami(options: CallOptions = {}): Promise<Identity> {
    await this.enter('whoami', [], options);
    return { ...this.identity };
  }

  async workingDir(options: CallOptions = {}): Promise<string> {
    await this.enter('workingDir', [], options);
    return posix.join(this.identity.home ?? '/root', '.sml');
  }

  async submit(request: SubmitRequest, options: CallOptions = {}): Promise<SubmitResult> {
    await this.enter('submit', [request], options);
    requireAbsolute(request.scriptPath, 'script path');
    requireAbsolute(request.workingDir, 'working directory');
    this.storeFile(request.scriptPath, Buffer.from(request.script), 0o700);
    this.mkdirs(request.workingDir);
    const lost = this.lostSubmits.shift();
    const jobId = lost?.isQueued === false ? undefined : this.queue(request);
    if (lost) {
      // What the SLURM backend does when sbatch's answer is lost: look for the job by its tag.
      const timeout = new SmlError('TIMEOUT', 'sbatch timed out after 120 s.');
      if (request.tag === '') throw timeout;
      const matching = (await this.findTaggedJobs(request.tag, options)).filter(
        (job) => job.comment === request.tag,
      );
      if (matching.length === 1) return { jobId: matching[0]!.jobId };
      throw new SmlError('SUBMIT_FAILED', `${timeout.message} The job may or may not have been submitted.`, {
        hint: `Look for a job with comment "${request.tag}" before launching again, so it does not run twice.`,
        isAmbiguous: true,
        cause: timeout,
      });
    }
    return { jobId: jobId! };
  }

  async statuses(jobIds: readonly string[], options: CallOptions = {}): Promise<Map<string, JobInfo>> {
    await this.enter('statuses', [[...jobIds]], options);
    for (const id of jobIds) requireJobId(id);
    const found = new Map<string, JobInfo>();
    for (const id of new Set(jobIds)) {
      const entry = this.jobs.get(id);
      if (!entry || entry.isForgotten) continue;
      if (entry.unlistedPolls > 0) {
        entry.unlistedPolls--;
        continue;
      }
      found.set(id, { ...entry.info, nodes: entry.info.nodes && [...entry.info.nodes] });
    }
    return found;
  }

  async findTaggedJobs(tagPrefix: string, options: CallOptions = {}): Promise<JobInfo[]> {
    await this.enter('findTaggedJobs', [tagPrefix], options);
    if (tagPrefix === '') {
      throw new SmlError('INVALID_ARGUMENT', 'The tag prefix is empty.', {
        hint: 'Give the sml-mcp job tag prefix.',
      });
    }
    return [...this.jobs.values()]
      .filter(
        (e) => !e.isForgotten && e.info.user === this.identity.user && e.info.comment?.startsWith(tagPrefix),
      )
      .map((e) => ({ ...e.info }));
  }

  async cancel(jobId: string, options: CallOptions = {}): Promise<CancelResult> {
    await this.enter('cancel', [jobId], options);
    requireJobId(jobId);
    const entry = this.jobs.get(jobId);
    if (!entry || entry.isForgotten) {
      throw new SmlError('NOT_FOUND', `SLURM does not know job ${jobId}.`, {
        hint: 'Check the job id (status lists your jobs); jobs that ended long ago may be gone from SLURM.',
        details: { jobId },
      });
    }
    if (entry.info.user !== this.identity.user) {
      throw new SmlError(
        'PERMISSION_DENIED',
        `SLURM refused to cancel job ${jobId}: it belongs to another user.`,
        {
          details: { jobId },
        },
      );
    }
    if (ENDED_STATES.has(entry.info.state)) {
      return {
        jobId,
        alreadyEnded: true,
        note: `Job ${jobId} had already ended (${entry.info.rawState}); nothing to cancel.`,
      };
    }
    this.finish(entry, 'CANCELLED', { exitCode: '0:15', rawState: 'CANCELLED by 0' });
    return { jobId, alreadyEnded: false };
  }

  async readFile(
    path: string,
    offset: number,
    maxBytes: number,
    options: CallOptions = {},
  ): Promise<FileChunk> {
    await this.enter('readFile', [path, offset, maxBytes], options);
    requireAbsolute(path, 'file path');
    requireReadRange(offset, maxBytes);
    const file = this.files.get(posix.normalize(path));
    if (!file) throw new SmlError('NOT_FOUND', `${path} does not exist.`, { details: { path } });
    return { data: Buffer.from(file.data.subarray(offset, offset + maxBytes)), size: file.data.length };
  }

  async fileSize(path: string, options: CallOptions = {}): Promise<number | undefined> {
    await this.enter('fileSize', [path], options);
    requireAbsolute(path, 'file path');
    return this.files.get(posix.normalize(path))?.data.length;
  }

  async writeFile(
    path: string,
    content: string | Buffer,
    options: CallOptions & { mode?: number } = {},
  ): Promise<void> {
    await this.enter('writeFile', [path, content], options);
    requireAbsolute(path, 'file path');
    this.storeFile(path, Buffer.from(content), options.mode ?? 0o600);
  }

  async mkdir(path: string, options: CallOptions = {}): Promise<void> {
    await this.enter('mkdir', [path], options);
    requireAbsolute(path, 'directory');
    this.mkdirs(path);
  }

  async partitions(options: CallOptions = {}): Promise<Partition[]> {
    await this.enter('partitions', [], options);
    return this.partitionList.map((p) => ({ ...p }));
  }

  async reservations(options: CallOptions = {}): Promise<Reservation[]> {
    await this.enter('reservations', [], options);
    return this.reservationList.map((r) => ({ ...r }));
  }

  // ——— what a test does to the cluster ———

  /** Start a pending job now on free nodes, ignoring its dependency and a held queue. */
  start(jobId: string): void {
    const entry = this.entry(jobId);
    if (entry.info.state !== 'PENDING') throw new Error(`job ${jobId} is ${entry.info.state}, not PENDING`);
    const free = this.freeNodes();
    if (free.length < entry.nodeCount)
      throw new Error(`job ${jobId} needs ${entry.nodeCount} nodes, ${free.length} are free`);
    this.run(entry, free);
  }

  /** Let held jobs start (the queue was held with isQueueHeld). */
  releaseQueue(): void {
    this.isQueueHeld = false;
    this.schedule();
  }

  /** End a job as SLURM would from outside (NODE_FAIL, TIMEOUT, PREEMPTED, OUT_OF_MEMORY, …). */
  end(jobId: string, state: SlurmState, options: { exitCode?: string; reason?: string } = {}): void {
    if (!ENDED_STATES.has(state)) throw new Error(`${state} is not a state a job ends in`);
    const entry = this.entry(jobId);
    if (ENDED_STATES.has(entry.info.state)) throw new Error(`job ${jobId} already ended`);
    this.finish(entry, state, {
      exitCode: options.exitCode ?? (state === 'COMPLETED' ? '0:0' : '1:0'),
      reason: options.reason,
    });
  }

  /** Accounting purged the job: the scheduler no longer knows it (statuses leave it out). */
  forget(jobId: string): void {
    this.entry(jobId).isForgotten = true;
  }

  /** Leave a fresh job out of the next `polls` status sweeps (FirecREST's 404 right after a submit). */
  hideFromStatuses(jobId: string, polls: number): void {
    this.entry(jobId).unlistedPolls = polls;
  }

  /** A job of another user (not cancellable by us, absent from our tagged jobs). */
  addForeignJob(user: string, info: Partial<JobInfo> = {}): string {
    const jobId = String(this.nextJobId++);
    this.jobs.set(jobId, {
      info: { jobId, state: 'RUNNING', rawState: 'RUNNING', user, name: 'foreign', ...info },
      nodeCount: 0,
      stop: new AbortController(),
      isForgotten: false,
      unlistedPolls: 0,
    });
    return jobId;
  }

  /** A snapshot of a job as the scheduler holds it (also forgotten ones). */
  job(jobId: string): JobInfo & { request?: SubmitRequest } {
    const entry = this.entry(jobId);
    return { ...entry.info, request: entry.request };
  }

  /** Ids of every job ever submitted, oldest first. */
  jobIds(): string[] {
    return [...this.jobs.keys()];
  }

  /** A file's content as text (undefined when missing), for assertions. */
  fileText(path: string): string | undefined {
    return this.files.get(posix.normalize(path))?.data.toString('utf8');
  }

  /** Put a file on the "cluster" (parents created), as an administrator or a job would. */
  putFile(path: string, content: string | Buffer, mode = 0o644): void {
    this.storeFile(path, Buffer.from(content), mode);
  }

  appendFile(path: string, content: string | Buffer): void {
    const key = posix.normalize(path);
    const old = this.files.get(key);
    this.storeFile(
      key,
      Buffer.concat([old?.data ?? Buffer.alloc(0), Buffer.from(content)]),
      old?.mode ?? 0o644,
    );
  }

  /**
   * Calls of `method` (or of any method: '*') fail with `error`: the next `times` calls (default:
   * until cleared), after letting `after` calls through (e.g. the second submit of a chain).
   */
  failNext(
    method: SchedulerMethod | '*',
    error: SmlError,
    times = Number.POSITIVE_INFINITY,
    after = 0,
  ): void {
    this.addFault(method, { kind: 'fail', error, times, after });
  }

  /** The next `times` calls of `method` never answer (until the caller's signal aborts them). */
  hangNext(method: SchedulerMethod | '*', times = 1): void {
    this.addFault(method, { kind: 'hang', times, after: 0 });
  }

  /** The next `times` calls of `method` take `ms` longer. */
  delayNext(method: SchedulerMethod | '*', ms: number, times = Number.POSITIVE_INFINITY): void {
    this.addFault(method, { kind: 'delay', ms, times, after: 0 });
  }

  /** The controller is down: every call fails with SCHEDULER_UNREACHABLE until set back to false. */
  setUnreachable(isUnreachable: boolean): void {
    this.isUnreachable = isUnreachable;
  }

  /**
   * sbatch's answer is lost for the next `times` submissions (a timeout); the job is queued or not
   * (`isQueued`). Like the SLURM backend, submit then looks for the job by its tag: found, it
   * succeeds; not found, it fails SUBMIT_FAILED with isAmbiguous.
   */
  loseSubmitAnswers(times = 1, options: { isQueued?: boolean } = {}): void {
    for (let i = 0; i < times; i++) this.lostSubmits.push({ isQueued: options.isQueued ?? true });
  }

  clearFaults(): void {
    this.faults.clear();
    this.isUnreachable = false;
    this.lostSubmits.length = 0;
  }

  /** Stop every running program (a test's afterAll). */
  shutdown(): void {
    for (const entry of this.jobs.values()) entry.stop.abort();
  }

  // ——— internals ———

  private async enter(method: SchedulerMethod, args: unknown[], options: CallOptions): Promise<void> {
    this.calls.push({ method, args });
    checkAborted(options.signal);
    if (this.isUnreachable) {
      throw new SmlError(
        'SCHEDULER_UNREACHABLE',
        `${method}: cannot reach the SLURM controller: Connection refused`,
        {
          hint: 'The cluster may be down or in maintenance; try again later.',
        },
      );
    }
    for (const key of [method, '*'] as const) {
      const queue = this.faults.get(key);
      const fault = queue?.[0];
      if (!fault) continue;
      if (fault.after > 0) {
        fault.after--;
        continue;
      }
      if (--fault.times <= 0) queue.shift();
      if (fault.kind === 'fail') throw fault.error;
      if (fault.kind === 'delay') await abortableSleep(fault.ms, options.signal);
      if (fault.kind === 'hang') await abortableSleep(2 ** 31 - 1, options.signal);
    }
  }

  private addFault(method: SchedulerMethod | '*', fault: Fault): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), fault]);
  }

  private entry(jobId: string): JobEntry {
    const entry = this.jobs.get(jobId);
    if (!entry) throw new Error(`no job ${jobId} in the in-memory scheduler`);
    return entry;
  }

  /** sbatch: check the directives like EnforcePartLimits=ALL does, then queue the job. */
  private queue(request: SubmitRequest): string {
    const directives = sbatchDirectives(request.script);
    const refuse = (message: string) =>
      new SmlError(
        'SUBMIT_FAILED',
        `sbatch refused ${request.scriptPath} (exit 1): sbatch: error: ${message}`,
        {
          hint: 'Check the partition, account, reservation and time limit against `partitions`/`whoami`, then launch again.',
          details: { scriptPath: request.scriptPath },
        },
      );
    const partitionName = directives.get('partition');
    const partition = partitionName
      ? this.partitionList.find((p) => p.name === partitionName)
      : this.partitionList.find((p) => p.isDefault);
    if (!partition) throw refuse(`invalid partition specified: ${partitionName ?? '(no default partition)'}`);
    const reservation = directives.get('reservation');
    if (reservation && !this.reservationList.some((r) => r.name === reservation))
      throw refuse(`Batch job submission failed: Requested reservation is invalid`);
    const timeLimit = directives.get('time');
    const limitS = timeLimit === undefined ? undefined : slurmTimeSeconds(timeLimit);
    if (timeLimit !== undefined && limitS === undefined) throw refuse(`Invalid --time specification`);
    const maxS = partition.maxTime ? slurmTimeSeconds(partition.maxTime) : undefined;
    if (limitS !== undefined && maxS !== undefined && limitS > maxS)
      throw refuse(
        'Batch job submission failed: Requested time limit is invalid (missing or exceeds some limit)',
      );
    const nodeCount = Number(directives.get('nodes') ?? '1');
    const partitionNodes = partition.nodes ? expandHostlist(partition.nodes).length : this.nodes.length;
    if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > partitionNodes)
      throw refuse('Batch job submission failed: Requested node configuration is not available');
    const dependency = directives.get('dependency');
    const dependsOn = dependency?.match(/^after(?:ok|any|notok)?:(\d+(?:_\d+)?)/)?.[1];
    if (dependency && (!dependsOn || !this.jobs.has(dependsOn)))
      throw refuse('Batch job submission failed: Job dependency problem');

    const jobId = String(this.nextJobId++);
    this.jobs.set(jobId, {
      info: {
        jobId,
        state: 'PENDING',
        rawState: 'PENDING',
        reason: dependsOn ? 'Dependency' : 'Priority',
        name: directives.get('job-name') ?? posix.basename(request.scriptPath),
        comment: directives.get('comment'),
        user: this.identity.user,
        account: directives.get('account') ?? this.identity.defaultAccount,
        partition: partition.name,
        submitTime: isoNow(),
        timeLimit: timeLimit ?? partition.maxTime,
      },
      request,
      nodeCount,
      dependsOn,
      program: directives.get('comment') ? this.programs.get(directives.get('comment')!) : undefined,
      stop: new AbortController(),
      isForgotten: false,
      unlistedPolls: 0,
    });
    // The controller schedules on its next pass, not inside sbatch.
    setImmediate(() => this.schedule());
    return jobId;
  }

  private freeNodes(): string[] {
    const busy = new Set(
      [...this.jobs.values()].filter((e) => isActive(e.info.state)).flatMap((e) => e.info.nodes ?? []),
    );
    return this.nodes.filter((n) => !busy.has(n));
  }

  /** Start pending jobs in submission order while whole nodes are free (FIFO, no backfill). */
  private schedule(): void {
    if (this.isQueueHeld) return;
    for (const entry of this.jobs.values()) {
      if (entry.info.state !== 'PENDING' || entry.dependsOn) continue;
      const free = this.freeNodes();
      if (free.length < entry.nodeCount) {
        entry.info.reason = 'Resources';
        return;
      }
      this.run(entry, free);
    }
  }

  private run(entry: JobEntry, free: string[]): void {
    const info = entry.info;
    info.state = 'RUNNING';
    info.rawState = 'RUNNING';
    info.reason = 'None';
    info.startTime = isoNow();
    info.nodes = free.slice(0, entry.nodeCount);
    const request = entry.request;
    if (!request) return;
    const resolvePath = (path: string) =>
      path.startsWith('/') ? path : posix.join(request.workingDir, path);
    const output = sbatchDirectives(request.script).get('output') ?? 'slurm-%j.out';
    // SLURM creates the output file when the job starts.
    this.appendFile(resolvePath(output.replaceAll('%j', info.jobId)), '');
    const signal = entry.stop.signal;
    const run: JobRun = {
      jobId: info.jobId,
      request,
      nodes: info.nodes,
      logDir: posix.join(request.workingDir, 'logs', info.jobId),
      signal,
      append: (path, text) => {
        if (!signal.aborted) this.appendFile(resolvePath(path), text);
      },
      write: (path, text) => {
        if (!signal.aborted) this.storeFile(resolvePath(path), Buffer.from(text), 0o644);
      },
      sleep: (ms) => abortableSleep(ms, signal),
    };
    const program = entry.program ?? this.defaultProgram;
    Promise.resolve()
      .then(() => program(run))
      .then(
        (status) => {
          if (ENDED_STATES.has(info.state)) return;
          const code = typeof status === 'number' ? status : 0;
          this.finish(entry, code === 0 ? 'COMPLETED' : 'FAILED', { exitCode: `${code}:0` });
        },
        () => {
          if (!ENDED_STATES.has(info.state)) this.finish(entry, 'FAILED', { exitCode: '1:0' });
        },
      );
    // Jobs that wait for this one to start (after:<id>) become eligible; they still wait for nodes.
    for (const other of this.jobs.values()) if (other.dependsOn === info.jobId) other.dependsOn = undefined;
  }

  private finish(
    entry: JobEntry,
    state: SlurmState,
    options: { exitCode: string; rawState?: string; reason?: string },
  ): void {
    const info = entry.info;
    const wasRunning = info.state !== 'PENDING';
    info.state = state;
    info.rawState = options.rawState ?? state;
    info.reason = options.reason ?? 'None';
    info.exitCode = options.exitCode;
    info.endTime = isoNow();
    if (!wasRunning) info.startTime = info.endTime;
    entry.stop.abort();
    // A successor of a job cancelled before it started never runs: SLURM keeps it DependencyNeverSatisfied.
    for (const other of this.jobs.values())
      if (other.dependsOn === info.jobId && other.info.state === 'PENDING')
        other.info.reason = 'DependencyNeverSatisfied';
    setImmediate(() => this.schedule());
  }

  private storeFile(path: string, data: Buffer, mode: number): void {
    const key = posix.normalize(path);
    this.mkdirs(posix.dirname(key));
    this.files.set(key, { data, mode });
  }

  private mkdirs(path: string): void {
    for (let dir = posix.normalize(path); !this.dirs.has(dir); dir = posix.dirname(dir)) this.dirs.add(dir);
  }
}

/** `#SBATCH --key=value` lines before the first command, as sbatch reads them. */
export function sbatchDirectives(script: string): Map<string, string> {
  const directives = new Map<string, string>();
  for (const line of script.split('\n')) {
    const match = line.match(/^#SBATCH\s+--([a-z-]+)(?:[=\s]\s*(\S+))?/);
    if (match) directives.set(match[1]!, match[2] ?? '');
    else if (line.trim() !== '' && !line.startsWith('#')) break;
  }
  return directives;
}

/** Seconds of a SLURM time (`MM`, `MM:SS`, `HH:MM:SS`, `D-HH[:MM[:SS]]`), undefined for UNLIMITED or junk. */
function slurmTimeSeconds(value: string): number | undefined {
  const match = value.match(/^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/);
  if (!match) return undefined;
  const [, days, a, b, c] = match;
  const d = Number(days ?? 0);
  if (days !== undefined) return d * 86400 + Number(a) * 3600 + Number(b ?? 0) * 60 + Number(c ?? 0);
  if (c !== undefined) return Number(a) * 3600 + Number(b) * 60 + Number(c);
  if (b !== undefined) return Number(a) * 60 + Number(b);
  return Number(a) * 60;
}

function isActive(state: SlurmState): boolean {
  return state === 'RUNNING' || state === 'CONFIGURING' || state === 'COMPLETING';
}

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new SmlError('CANCELLED', 'The request was cancelled before it finished.');
}

async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw new SmlError('CANCELLED', 'The request was cancelled before it finished.');
  }
}
