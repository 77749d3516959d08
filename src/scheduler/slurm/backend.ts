import { dirname, isAbsolute, posix, relative } from 'node:path';
import { JOB_ID_PATTERN } from '../../domain/ids.js';
import { SmlError } from '../../errors.js';
import { logger } from '../../log.js';
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
  type SubmitRequest,
  type SubmitResult,
} from '../scheduler.js';
import {
  FIELD_SEPARATOR,
  parsePartitions,
  parseReservations,
  parseSacctOutput,
  parseSbatchJobId,
  parseScontrolJobs,
  parseSqueueOutput,
  SACCT_FIELDS,
  SQUEUE_FORMAT,
} from './parse.js';
import { type ClusterRunner, type CommandResult, stderrSummary } from './runner.js';

export interface SlurmBackendOptions {
  /** How many days back `findTaggedJobs` looks in accounting (default 7). */
  historyDays?: number;
  /** Timeout of one sbatch call in milliseconds (default 120 s; the runner's default applies elsewhere). */
  submitTimeoutMs?: number;
}

/** Largest single read: a log is followed by many bounded reads, never one huge one. */
const MAX_READ_BYTES = 64 * 1024 * 1024;
const SACCT_OUTPUT_ARGS = ['-X', '-n', '-P', `--delimiter=${FIELD_SEPARATOR}`, '-o', SACCT_FIELDS.join(',')];

/**
 * The Scheduler over the SLURM command-line tools, run by a ClusterRunner (locally or over SSH).
 * Status is batched: one squeue for every job asked for, plus one sacct (or scontrol when accounting
 * is disabled) for those squeue no longer shows and for ended ones (their exit code).
 */
export class SlurmCliScheduler implements Scheduler {
  readonly kind: 'slurm' | 'ssh';
  private identity?: Promise<Identity>;
  /** Learned from the first sacct answer "accounting storage is disabled"; scontrol is used from then on. */
  private isAccountingDisabled = false;
  private readonly historyDays: number;
  private readonly submitTimeoutMs: number;

  constructor(
    readonly runner: ClusterRunner,
    options: SlurmBackendOptions = {},
  ) {
    this.kind = runner.kind === 'ssh' ? 'ssh' : 'slurm';
    this.historyDays = options.historyDays ?? 7;
    this.submitTimeoutMs = options.submitTimeoutMs ?? 120_000;
  }

  whoami(options: CallOptions = {}): Promise<Identity> {
    if (!this.identity) {
      this.identity = this.lookUpIdentity(options);
      // A failed look-up is not cached: the next call tries again.
      this.identity.catch(() => {
        this.identity = undefined;
      });
    }
    return this.identity;
  }

  private async lookUpIdentity(options: CallOptions): Promise<Identity> {
    const user = await this.singleLine(['id', '-un'], options);
    const home = await this.singleLine(['printenv', 'HOME'], options);
    if (!isAbsolute(home)) {
      throw new SmlError(
        'SCHEDULER_ERROR',
        `The home directory on ${this.runner.target} is "${home}", not absolute.`,
      );
    }
    // Never guessed (SML used the unix group): a wrong --account bills the wrong project.
    const sacctmgr = await this.runner.run(
      ['sacctmgr', '-nP', 'show', 'user', user, 'format=DefaultAccount'],
      options,
    );
    if (sacctmgr.exitCode !== 0) {
      const reason = stderrSummary(sacctmgr.stderr, 300) || `exit code ${sacctmgr.exitCode}`;
      return { user, home, accountProblem: `sacctmgr failed: ${reason}` };
    }
    const defaultAccount = firstLine(sacctmgr.stdout.toString('utf8'));
    if (!defaultAccount)
      return { user, home, accountProblem: `SLURM accounting lists no default account for ${user}` };
    return { user, defaultAccount, accountSource: 'sacctmgr DefaultAccount', home };
  }

  async workingDir(options: CallOptions = {}): Promise<string> {
    const { home } = await this.whoami(options);
    return posix.join(home!, '.sml');
  }

  async submit(request: SubmitRequest, options: CallOptions = {}): Promise<SubmitResult> {
    requireAbsolute(request.scriptPath, 'script path');
    requireAbsolute(request.workingDir, 'working directory');
    await this.runner.writeFile(request.scriptPath, request.script, { ...options, mode: 0o700 });
    if (!isInside(dirname(request.scriptPath), request.workingDir)) {
      await this.runner.mkdir([request.workingDir], options);
    }
    const sbatch = ['sbatch', '--parsable', '--chdir', request.workingDir, request.scriptPath];
    const secrets = secretEnvInput(request.secretEnv);
    // Secrets travel on stdin into sbatch's environment (sbatch exports it to the job), never in argv.
    const argv = secrets === undefined ? sbatch : ['bash', '-c', SECRET_ENV_SBATCH, 'sml-submit', ...sbatch];
    let result: CommandResult;
    try {
      result = await this.runner.run(argv, {
        ...options,
        input: secrets,
        timeoutMs: this.submitTimeoutMs,
      });
    } catch (error) {
      return this.recoverAmbiguousSubmit(request, error, options);
    }
    if (result.exitCode !== 0 && isControllerUnreachable(result.stderr)) {
      // sbatch gave up waiting for the controller's answer: its request may still have been queued.
      return this.recoverAmbiguousSubmit(
        request,
        commandFailure('sbatch', result, this.runner.target),
        options,
      );
    }
    if (result.exitCode !== 0) {
      throw new SmlError(
        'SUBMIT_FAILED',
        `sbatch refused ${request.scriptPath} (exit ${result.exitCode}): ${stderrSummary(result.stderr, 1000)}`,
        {
          hint: 'Check the partition, account, reservation and time limit against `partitions`/`whoami`, then launch again.',
          details: { scriptPath: request.scriptPath },
        },
      );
    }
    const jobId = parseSbatchJobId(result.stdout.toString('utf8'));
    if (!jobId) {
      throw new SmlError('SUBMIT_FAILED', `sbatch printed no job id for ${request.scriptPath}.`, {
        hint: `Look for a job with comment "${request.tag}" (status of all jobs) before launching again.`,
        details: { stdout: stderrSummary(result.stdout.toString('utf8'), 500) },
        isAmbiguous: true,
      });
    }
    return { jobId };
  }

  /** sbatch timed out or the connection dropped: the job may exist; its tag tells. */
  private async recoverAmbiguousSubmit(
    request: SubmitRequest,
    error: unknown,
    options: CallOptions,
  ): Promise<SubmitResult> {
    const isAmbiguous =
      error instanceof SmlError && (error.code === 'TIMEOUT' || error.code === 'SCHEDULER_UNREACHABLE');
    if (!isAmbiguous || request.tag === '') throw error;
    try {
      const found = await this.findTaggedJobs(request.tag, options);
      const matching = found.filter((job) => job.comment === request.tag);
      if (matching.length === 1) {
        logger.warn(
          { jobId: matching[0]!.jobId, tag: request.tag },
          'sbatch answer lost; job found by its tag',
        );
        return { jobId: matching[0]!.jobId };
      }
    } catch {
      // The cluster is still unreachable; report the original failure below.
    }
    throw new SmlError('SUBMIT_FAILED', `${error.message} The job may or may not have been submitted.`, {
      hint: `Look for a job with comment "${request.tag}" before launching again, so it does not run twice.`,
      isAmbiguous: true,
      cause: error,
    });
  }

  async statuses(jobIds: readonly string[], options: CallOptions = {}): Promise<Map<string, JobInfo>> {
    const ids = [...new Set(jobIds)];
    for (const id of ids) requireJobId(id);
    const found = new Map<string, JobInfo>();
    if (ids.length === 0) return found;
    let queue: JobInfo[];
    try {
      queue = await this.squeue([`--jobs=${ids.join(',')}`, '--states=all'], options);
    } catch (error) {
      const fromAccounting = await this.accountingInstead(error, ['-j', ids.join(',')], options);
      for (const job of fromAccounting) if (ids.includes(job.jobId)) mergeJob(found, job);
      return found;
    }
    for (const job of queue) {
      if (ids.includes(job.jobId)) found.set(job.jobId, job);
    }
    // squeue has no exit code; accounting (or scontrol) gives it for ended jobs, and knows the ones squeue forgot.
    const needDetails = ids.filter((id) => {
      const job = found.get(id);
      // COMPLETING: the job has ended and is cleaning up; accounting already knows how it ended.
      return job === undefined || ENDED_STATES.has(job.state) || job.state === 'COMPLETING';
    });
    if (needDetails.length > 0) {
      const details = await this.endedJobs(needDetails, options);
      for (const job of details.jobs) {
        if (!needDetails.includes(job.jobId)) continue;
        mergeJob(found, job);
      }
      for (const id of details.note ? needDetails : []) {
        const job = found.get(id);
        if (job) found.set(id, { ...job, note: details.note });
      }
    }
    return found;
  }

  /**
   * Jobs by id from accounting, or from the controller's table when accounting is disabled or down;
   * down, the answer carries a note (the controller forgets ended jobs after MinJobAge).
   */
  private async endedJobs(
    ids: readonly string[],
    options: CallOptions,
  ): Promise<{ jobs: JobInfo[]; note?: string }> {
    try {
      const fromSacct = await this.sacct(['-j', ids.join(',')], options);
      return { jobs: fromSacct ?? (await this.scontrolJobs(options)) };
    } catch (error) {
      if (!isAccountingDown(error)) throw error;
      logger.warn({ err: error.message }, 'accounting unavailable; status from squeue and scontrol');
      return {
        jobs: await this.scontrolJobs(options).catch(() => []),
        note: `SLURM accounting (slurmdbd) is unavailable, so how an ended job ended comes from the controller alone (it forgets ended jobs after a while): ${error.message}`,
      };
    }
  }

  async findTaggedJobs(tagPrefix: string, options: CallOptions = {}): Promise<JobInfo[]> {
    if (tagPrefix === '') {
      throw new SmlError('INVALID_ARGUMENT', 'The tag prefix is empty.', {
        hint: 'Give the sml-mcp job tag prefix.',
      });
    }
    const { user } = await this.whoami(options);
    const hasTag = (job: JobInfo) => job.comment?.startsWith(tagPrefix) === true;
    const found = new Map<string, JobInfo>();
    const history = ['-u', user, '-S', `now-${this.historyDays}days`];
    let queue: JobInfo[];
    try {
      queue = await this.squeue(['--me', '--states=all'], options);
    } catch (error) {
      return (await this.accountingInstead(error, history, options)).filter(hasTag);
    }
    for (const job of queue) {
      if (hasTag(job)) found.set(job.jobId, job);
    }
    const fromSacct = await this.sacct(history, options).catch((error: unknown) => {
      if (isAccountingDown(error)) return undefined;
      throw error;
    });
    // Without accounting, the controller's table still holds recent jobs.
    const recent = fromSacct ?? (await this.scontrolJobs(options)).filter((job) => job.user === user);
    for (const job of recent) {
      if (hasTag(job)) mergeJob(found, job);
    }
    return [...found.values()];
  }

  async cancel(jobId: string, options: CallOptions = {}): Promise<CancelResult> {
    requireJobId(jobId);
    // Without --verbose, scancel says nothing (and exits 0) for ended or unknown jobs.
    const result = await this.runner.run(['scancel', '--verbose', jobId], options);
    const stderr = result.stderr;
    if (result.exitCode === 0 && !/error:/i.test(stderr)) return { jobId, alreadyEnded: false };
    if (/already completing or completed/i.test(stderr)) {
      return {
        jobId,
        alreadyEnded: true,
        note: `Job ${jobId} had already ended (or was ending); nothing to cancel.`,
      };
    }
    if (/Invalid job id specified/i.test(stderr)) {
      // The controller forgot the job; accounting tells whether it ever existed.
      const known = (await this.statuses([jobId], options)).get(jobId);
      if (known && ENDED_STATES.has(known.state)) {
        return {
          jobId,
          alreadyEnded: true,
          note: `Job ${jobId} had already ended (${known.rawState}); nothing to cancel.`,
        };
      }
      throw new SmlError('NOT_FOUND', `SLURM on ${this.runner.target} does not know job ${jobId}.`, {
        hint: 'Check the job id (status lists your jobs); jobs that ended long ago may be gone from SLURM.',
        details: { jobId },
      });
    }
    if (/Access\/permission denied|Permission denied/i.test(stderr)) {
      throw new SmlError(
        'PERMISSION_DENIED',
        `SLURM refused to cancel job ${jobId}: it belongs to another user.`,
        {
          details: { jobId },
        },
      );
    }
    throw commandFailure('scancel', result, this.runner.target);
  }

  async readFile(
    path: string,
    offset: number,
    maxBytes: number,
    options: CallOptions = {},
  ): Promise<FileChunk> {
    requireAbsolute(path, 'file path');
    requireReadRange(offset, maxBytes);
    return this.runner.readRange(path, offset, maxBytes, options);
  }

  async fileSize(path: string, options: CallOptions = {}): Promise<number | undefined> {
    requireAbsolute(path, 'file path');
    return this.runner.fileSize(path, options);
  }

  async writeFile(
    path: string,
    content: string | Buffer,
    options: CallOptions & { mode?: number } = {},
  ): Promise<void> {
    requireAbsolute(path, 'file path');
    return this.runner.writeFile(path, content, options);
  }

  async mkdir(path: string, options: CallOptions = {}): Promise<void> {
    requireAbsolute(path, 'directory');
    return this.runner.mkdir([path], options);
  }

  async partitions(options: CallOptions = {}): Promise<Partition[]> {
    const result = await this.runner.run(['scontrol', 'show', 'partition', '--oneliner'], options);
    if (result.exitCode !== 0) throw commandFailure('scontrol show partition', result, this.runner.target);
    return parsePartitions(result.stdout.toString('utf8'));
  }

  async reservations(options: CallOptions = {}): Promise<Reservation[]> {
    const result = await this.runner.run(['scontrol', 'show', 'reservation', '--oneliner'], options);
    const stdout = result.stdout.toString('utf8');
    if (result.exitCode !== 0 && !/No reservations in the system/.test(stdout + result.stderr)) {
      throw commandFailure('scontrol show reservation', result, this.runner.target);
    }
    return parseReservations(stdout);
  }

  /**
   * When squeue cannot reach the controller (slurmctld restarting, failing over, down), accounting
   * (slurmdbd) still knows every job: its answer, each job with a note that it may be behind. Any
   * other failure, or accounting failing too, is the original error.
   */
  private async accountingInstead(
    squeueError: unknown,
    selection: readonly string[],
    options: CallOptions,
  ): Promise<JobInfo[]> {
    if (!(squeueError instanceof ControllerUnreachableError)) throw squeueError;
    const fromSacct = await this.sacct(selection, options).catch(() => undefined);
    if (!fromSacct) throw squeueError;
    logger.warn({ err: squeueError.message }, 'controller unreachable; status from accounting');
    const note = `The SLURM controller (slurmctld) is not answering, so this state comes from accounting (slurmdbd) and may be behind: ${squeueError.message}`;
    return fromSacct.map((job) => ({ ...job, note }));
  }

  private async squeue(selection: readonly string[], options: CallOptions): Promise<JobInfo[]> {
    const result = await this.runner.run(['squeue', ...selection, '-h', '-o', SQUEUE_FORMAT], options);
    if (result.exitCode !== 0) {
      // squeue fails outright when every id asked for is unknown to the controller.
      if (/Invalid job id specified/i.test(result.stderr)) return [];
      throw commandFailure('squeue', result, this.runner.target);
    }
    return parseSqueueOutput(result.stdout.toString('utf8'));
  }

  /** sacct with the standard fields; undefined when accounting is disabled on this cluster. */
  private async sacct(selection: readonly string[], options: CallOptions): Promise<JobInfo[] | undefined> {
    if (this.isAccountingDisabled) return undefined;
    const result = await this.runner
      .run(['sacct', ...selection, ...SACCT_OUTPUT_ARGS], options)
      .catch((error: unknown) => {
        if (!(error instanceof SmlError) || error.code !== 'TIMEOUT') throw error;
        throw new AccountingUnavailableError(
          `SLURM's accounting daemon (slurmdbd) did not answer: ${error.message}`,
          'Accounting is slow or down; queued and running jobs are still reported from squeue.',
          error,
        );
      });
    if (result.exitCode !== 0 || /accounting storage is disabled/i.test(result.stderr + result.stdout)) {
      if (/accounting storage is disabled/i.test(result.stderr + result.stdout)) {
        this.isAccountingDisabled = true;
        return undefined;
      }
      throw accountingFailure(result, this.runner.target);
    }
    return parseSacctOutput(result.stdout.toString('utf8'));
  }

  private async scontrolJobs(options: CallOptions): Promise<JobInfo[]> {
    const result = await this.runner.run(['scontrol', '-o', 'show', 'job'], options);
    if (result.exitCode !== 0) throw commandFailure('scontrol show job', result, this.runner.target);
    return parseScontrolJobs(result.stdout.toString('utf8'));
  }

  private async singleLine(argv: readonly string[], options: CallOptions): Promise<string> {
    const result = await this.runner.run(argv, options);
    const line = firstLine(result.stdout.toString('utf8'));
    if (result.exitCode !== 0 || !line) throw commandFailure(argv.join(' '), result, this.runner.target);
    return line;
  }
}

/** Keep what the first source said, fill the gaps (exit code, times) from the second. */
function mergeJob(found: Map<string, JobInfo>, job: JobInfo): void {
  const known = found.get(job.jobId);
  if (!known) return void found.set(job.jobId, job);
  // Accounting may still hold an older job under a reused id: it says nothing about this one.
  if (known.submitTime && job.submitTime && known.submitTime !== job.submitTime) return;
  // squeue's COMPLETING hides how the job ended; accounting's final state tells it.
  const hasFinalState = known.state === 'COMPLETING' && ENDED_STATES.has(job.state);
  const final = hasFinalState
    ? { state: job.state, rawState: job.rawState, endTime: job.endTime ?? known.endTime }
    : {};
  found.set(job.jobId, { ...job, ...known, ...final, exitCode: known.exitCode ?? job.exitCode });
}

/** Reads `NAME=value` lines from stdin into the environment, then runs sbatch (the arguments). */
const SECRET_ENV_SBATCH = 'while IFS= read -r entry; do export "$entry"; done; exec "$@"';

function secretEnvInput(env: Readonly<Record<string, string>> | undefined): string | undefined {
  const entries = Object.entries(env ?? {});
  if (entries.length === 0) return undefined;
  for (const [name, value] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /[\n\r\0]/.test(value)) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `Secret variable ${name} cannot be passed to the job (bad name, or a line break in its value).`,
      );
    }
  }
  return entries.map(([name, value]) => `${name}=${value}\n`).join('');
}

function firstLine(text: string): string | undefined {
  return text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line !== '');
}

function isInside(path: string, directory: string): boolean {
  const rest = relative(directory, path);
  return rest === '' || (!rest.startsWith('..') && !isAbsolute(rest));
}

export function requireAbsolute(path: string, what: string): void {
  if (!path.startsWith('/')) {
    throw new SmlError('INVALID_ARGUMENT', `The ${what} "${path}" is not an absolute path on the cluster.`, {
      hint: 'Give a path starting with / (e.g. under the working directory from workingDir()).',
    });
  }
}

/** A byte range a file read may ask for: an offset ≥ 0 and 1 to MAX_READ_BYTES bytes. */
export function requireReadRange(offset: number, maxBytes: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new SmlError('INVALID_ARGUMENT', `Offset ${offset} is not a byte offset.`, {
      hint: 'Give a whole number ≥ 0 (the cursor of the previous read).',
    });
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > MAX_READ_BYTES) {
    throw new SmlError('INVALID_ARGUMENT', `Read size ${maxBytes} is out of range.`, {
      hint: `Give a whole number between 1 and ${MAX_READ_BYTES}.`,
    });
  }
}

export function requireJobId(id: string): void {
  if (!JOB_ID_PATTERN.test(id)) {
    throw new SmlError('INVALID_ARGUMENT', `"${id}" is not a SLURM job id.`, {
      hint: 'A job id is a number such as 12345 (array tasks: 12345_6).',
    });
  }
}

/** SLURM's own words for a request whose answer never came: the request may or may not have been carried out. */
function isControllerUnreachable(stderr: string): boolean {
  return /Unable to contact slurm controller|Socket timed out|Connection refused|Zero Bytes were transmitted|Connection timed out/i.test(
    stderr,
  );
}

/** sacct talks to the accounting daemon (slurmdbd), not the controller: a failure to reach it says so. */
function accountingFailure(result: CommandResult, target: string): SmlError {
  const stderr = stderrSummary(result.stderr, 1000);
  if (
    isControllerUnreachable(stderr) ||
    /Problem talking to the database|slurmdbd|persistent connection/i.test(stderr)
  ) {
    return new AccountingUnavailableError(
      `sacct on ${target} cannot reach SLURM's accounting daemon (slurmdbd): ${stderr}`,
      'Accounting is down or unreachable; queued and running jobs are still reported from squeue. Ask the cluster admins if it persists.',
    );
  }
  return commandFailure('sacct', result, target);
}

/** sacct could not reach slurmdbd: statuses fall back to squeue and scontrol instead of failing. */
class AccountingUnavailableError extends SmlError {
  constructor(message: string, hint: string, cause?: unknown) {
    super('SCHEDULER_UNREACHABLE', message, { hint, details: { command: 'sacct' }, cause });
  }
}

function isAccountingDown(error: unknown): error is AccountingUnavailableError {
  return error instanceof AccountingUnavailableError;
}

/** A SLURM command ran but could not reach slurmctld (SLURM said so): accounting may still answer. */
class ControllerUnreachableError extends SmlError {
  constructor(message: string) {
    super('SCHEDULER_UNREACHABLE', message, {
      hint: 'The cluster may be down or in maintenance; try again later.',
    });
  }
}

/** A failed SLURM command as an SmlError: controller down → SCHEDULER_UNREACHABLE, anything else SCHEDULER_ERROR. */
function commandFailure(command: string, result: CommandResult, target: string): SmlError {
  const stderr = stderrSummary(result.stderr, 1000);
  if (isControllerUnreachable(stderr)) {
    return new ControllerUnreachableError(
      `${command} on ${target} cannot reach the SLURM controller: ${stderr}`,
    );
  }
  return new SmlError(
    'SCHEDULER_ERROR',
    `${command} on ${target} failed (exit ${result.exitCode}): ${stderr}`,
    {
      details: { command },
    },
  );
}
