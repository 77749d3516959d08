import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FormData } from 'undici';
import type { z } from 'zod';
import { JOB_ID_PATTERN } from '../../domain/ids.js';
import { SmlError } from '../../errors.js';
import { logger } from '../../log.js';
import type {
  CallOptions,
  CancelResult,
  FileChunk,
  Identity,
  JobInfo,
  Partition,
  Reservation,
  Scheduler,
  SubmitRequest,
  SubmitResult,
} from '../scheduler.js';
import { FirecrestClient, type FirecrestClientOptions, type QueryValue } from './client.js';
import {
  isAccountingPlaceholder,
  scriptJobName,
  taggedJobName,
  toJobInfo,
  withCommentDirective,
} from './jobs.js';
import { type RangeTransport, readRange, type TextEstimate } from './ranges.js';
import {
  JobsAnswer,
  PartitionsAnswer,
  ReservationsAnswer,
  StatAnswer,
  SubmitAnswer,
  type SystemEntry,
  SystemsAnswer,
  TailAnswer,
  UserInfoAnswer,
  ViewAnswer,
} from './schemas.js';

export type FirecrestTimeWindow = '1h' | '8h' | '24h' | '3d' | '7d';

export interface FirecrestSchedulerOptions extends FirecrestClientOptions {
  /** The system (cluster) name as FirecREST lists it in `/status/systems`. */
  system: string;
  /** The user's home on the cluster; default: the `users` filesystem of the system + user name, else `/users/<user>`. */
  homeDir?: string;
  /** The sml working directory; default `<home>/.sml`. */
  workingDir?: string;
  /** How far back the job list looks for ended jobs (default `24h`). */
  statusTimeWindow?: FirecrestTimeWindow;
}

/** FirecREST's default `max_ops_file_size` when the system does not say. */
const DEFAULT_MAX_OPS_BYTES = 5 * 1024 * 1024;
const ALREADY_ENDED = /already completing or completed/i;
const INVALID_JOB_ID = /Invalid job id specified/i;
/** A 500 from a submit where sbatch itself failed: nothing was queued. */
const SBATCH_REFUSED = /exit_status:\s*[1-9]|sbatch: error/i;
/** How many jobs missing from the list a sweep looks up one by one. */
const MAX_SINGLE_LOOKUPS = 5;

/** Create the FirecREST v2 backend of the Scheduler seam. */
export function createFirecrestScheduler(options: FirecrestSchedulerOptions): FirecrestScheduler {
  return new FirecrestScheduler(options);
}

/**
 * The Scheduler seam over FirecREST v2: jobs through `/compute`, files through the filesystem ops
 * (small uploads, ranged reads), identity through `userinfo`. One launch is one job: a submit is
 * never repeated before the backend has looked for the submission's tag.
 */
export class FirecrestScheduler implements Scheduler {
  readonly kind = 'firecrest' as const;
  readonly client: FirecrestClient;
  readonly system: string;
  private readonly systemPath: string;
  private systemEntry: Promise<SystemEntry> | undefined;
  private identity: Promise<Identity> | undefined;
  /** Jobs this process submitted or saw: a cancel answering "Invalid job id" for them means "ended". */
  private readonly seenJobIds = new Set<string>();
  /** Bytes per character of recently read files, to size `ops/view` reads (a few dozen kept). */
  private readonly textEstimates = new Map<string, TextEstimate>();

  constructor(private readonly options: FirecrestSchedulerOptions) {
    this.client = new FirecrestClient(options);
    this.system = options.system;
    this.systemPath = encodeURIComponent(options.system);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** Every system FirecREST serves. */
  async systems(options?: CallOptions): Promise<SystemEntry[]> {
    const answer = await this.get(SystemsAnswer, '/status/systems', 'list the systems', {}, options);
    return answer.systems;
  }

  /** This system's entry of `/status/systems` (file systems, direct-ops limit, health). */
  systemInfo(options?: CallOptions): Promise<SystemEntry> {
    this.systemEntry ??= this.systems(options).then(
      (systems) => {
        const entry = systems.find((s) => s.name.toLowerCase() === this.system.toLowerCase());
        if (entry) return entry;
        throw new SmlError(
          'UNKNOWN_SYSTEM',
          `FirecREST at ${this.client.baseUrl} serves no system '${this.system}'.`,
          {
            hint: `Use one of: ${systems.map((s) => s.name).join(', ') || '(none listed)'}.`,
            details: { systems: systems.map((s) => s.name) },
          },
        );
      },
      (error: unknown) => {
        this.systemEntry = undefined;
        throw error;
      },
    );
    return this.systemEntry;
  }

  whoami(options?: CallOptions): Promise<Identity> {
    this.identity ??= this.readIdentity(options).catch((error: unknown) => {
      this.identity = undefined;
      throw error;
    });
    return this.identity;
  }

  async workingDir(options?: CallOptions): Promise<string> {
    if (this.options.workingDir) return this.options.workingDir;
    const { home } = await this.whoami(options);
    return posix.join(home!, '.sml');
  }

  async submit(request: SubmitRequest, options?: CallOptions): Promise<SubmitResult> {
    for (const [label, path] of [
      ['script path', request.scriptPath],
      ['working directory', request.workingDir],
    ] as const) {
      if (!posix.isAbsolute(path)) {
        throw new SmlError('INVALID_ARGUMENT', `The ${label} '${path}' is not an absolute path.`, {
          hint: 'Paths on the cluster must start with /.',
        });
      }
    }
    const name = taggedJobName(scriptJobName(request.script), request.tag);
    const script = withCommentDirective(request.script, request.tag);
    await this.mkdir(posix.dirname(request.scriptPath), options);
    await this.writeFile(request.scriptPath, script, options);
    if (posix.dirname(request.scriptPath) !== posix.normalize(request.workingDir)) {
      await this.mkdir(request.workingDir, options);
    }
    const env = Object.entries(request.secretEnv ?? {});
    for (const [variable, value] of env) {
      // FirecREST turns env into sbatch's --export list: a comma would split the value.
      if (/[,\n\r\0]/.test(value)) {
        throw new SmlError(
          'INVALID_ARGUMENT',
          `Secret variable ${variable} cannot be passed through FirecREST (a comma or line break in its value).`,
        );
      }
    }
    // Secrets go in the job's environment field, never in the script FirecREST stores.
    const body = {
      job: {
        name,
        workingDirectory: request.workingDir,
        script,
        ...(env.length > 0 ? { env: Object.fromEntries(env) } : {}),
      },
    };
    const deadline = Date.now() + this.client.timeouts.retryBudgetMs;
    for (let round = 0; ; round++) {
      try {
        const answer = await this.client.send({
          method: 'POST',
          path: `/compute/${this.systemPath}/jobs`,
          json: body,
          expect: [201],
          retry: 'once',
          action: `submit the job '${name}' on ${this.system}`,
          signal: options?.signal,
        });
        const { jobId } = parseAnswer(SubmitAnswer, answer.json(), 'submit');
        this.seenJobIds.add(jobId);
        return { jobId };
      } catch (error) {
        if (!isAmbiguousSubmitFailure(error)) throw asSubmitError(error);
        // The request may have reached SLURM: look for its tag before submitting again.
        const found = await this.findSubmission(name, request.tag, deadline, error as SmlError, options);
        if (found) {
          logger.info(
            { jobId: found, tag: request.tag },
            'firecrest submit confirmed after an ambiguous failure',
          );
          this.seenJobIds.add(found);
          return { jobId: found };
        }
        if (Date.now() + this.client.backoffDelay(round) > deadline) {
          throw new SmlError(
            'SUBMIT_FAILED',
            `Submitting the job '${name}' on ${this.system} failed and no job with tag '${request.tag}' was found: ${(error as SmlError).message}`,
            { hint: 'Nothing was queued; launch again.', details: { tag: request.tag }, cause: error },
          );
        }
        logger.warn(
          { tag: request.tag, round },
          'firecrest submit not found after an ambiguous failure; submitting again',
        );
      }
    }
  }

  async statuses(jobIds: readonly string[], options?: CallOptions): Promise<Map<string, JobInfo>> {
    const wanted = [...new Set(jobIds)].filter((id) => JOB_ID_PATTERN.test(id));
    const result = new Map<string, JobInfo>();
    if (wanted.length === 0) return result;
    if (wanted.length === 1) {
      const job = await this.job(wanted[0]!, options);
      if (job) result.set(job.jobId, job);
      return result;
    }
    const wantedSet = new Set(wanted);
    for (const job of await this.listJobs({}, options)) {
      if (wantedSet.has(job.jobId)) result.set(job.jobId, job);
    }
    // Jobs older than the list's time window (or not listed yet) are looked up one by one.
    const missing = wanted.filter((id) => !result.has(id)).slice(0, MAX_SINGLE_LOOKUPS);
    for (const id of missing) {
      const job = await this.job(id, options);
      if (job) result.set(job.jobId, job);
    }
    return result;
  }

  async findTaggedJobs(tagPrefix: string, options?: CallOptions): Promise<JobInfo[]> {
    // A week back, like the SLURM CLI backend's accounting look-up.
    const jobs = await this.listJobs({ timeWindow: '7d' }, options);
    return jobs.filter((job) => job.comment?.startsWith(tagPrefix));
  }

  async cancel(jobId: string, options?: CallOptions): Promise<CancelResult> {
    if (!JOB_ID_PATTERN.test(jobId)) {
      throw new SmlError('INVALID_ARGUMENT', `'${jobId}' is not a SLURM job id.`, {
        hint: 'A job id is letters and digits only, e.g. 123456.',
      });
    }
    const answer = await this.client.send({
      method: 'DELETE',
      path: `/compute/${this.systemPath}/jobs/${jobId}`,
      expect: [204],
      accept: (status, message) =>
        status === 500 && (ALREADY_ENDED.test(message) || INVALID_JOB_ID.test(message)),
      retry: 'idempotent',
      action: `cancel job ${jobId} on ${this.system}`,
      signal: options?.signal,
    });
    if (answer.status === 204) return { jobId, alreadyEnded: false };
    if (ALREADY_ENDED.test(answer.message)) {
      return { jobId, alreadyEnded: true, note: 'The job had already ended (or was ending).' };
    }
    // "Invalid job id" is also what SLURM says once an ended job has left its memory.
    if (this.seenJobIds.has(jobId) || (await this.job(jobId, options)) !== undefined) {
      return { jobId, alreadyEnded: true, note: 'The job had already ended and left the queue.' };
    }
    throw new SmlError('NOT_FOUND', `There is no job ${jobId} on ${this.system}.`, {
      hint: 'Check the job id with the status tool (it lists your jobs).',
      details: { jobId },
    });
  }

  async readFile(path: string, offset: number, maxBytes: number, options?: CallOptions): Promise<FileChunk> {
    assertAbsolute(path);
    let estimate = this.textEstimates.get(path);
    if (!estimate) {
      estimate = { bytesPerChar: 1 };
      this.textEstimates.set(path, estimate);
      if (this.textEstimates.size > 64) this.textEstimates.delete(this.textEstimates.keys().next().value!);
    }
    return readRange(this.rangeTransport(options), path, offset, maxBytes, estimate);
  }

  async fileSize(path: string, options?: CallOptions): Promise<number | undefined> {
    assertAbsolute(path);
    const answer = await this.client.send({
      method: 'GET',
      path: `/filesystem/${this.systemPath}/ops/stat`,
      query: { path },
      expect: [200],
      accept: (status) => status === 404,
      retry: 'idempotent',
      action: `read the size of ${path}`,
      signal: options?.signal,
    });
    if (answer.status === 404) return undefined;
    return parseAnswer(StatAnswer, answer.json(), 'stat').output.size;
  }

  async writeFile(
    path: string,
    content: string | Buffer,
    options?: CallOptions & { mode?: number },
  ): Promise<void> {
    assertAbsolute(path);
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const limit = await this.maxOpsBytes(options);
    if (data.length > limit) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `${path} would be ${data.length} bytes, above FirecREST's direct upload limit of ${limit} bytes.`,
        {
          hint: 'Keep staged files small (scripts and environment files are a few kB).',
        },
      );
    }
    const form = new FormData();
    form.append('file', new Blob([data], { type: 'application/octet-stream' }), posix.basename(path));
    await this.client.send({
      method: 'POST',
      path: `/filesystem/${this.systemPath}/ops/upload`,
      query: { path: posix.dirname(path) },
      form,
      expect: [204, 201, 200],
      retry: 'idempotent',
      action: `upload ${path}`,
      signal: options?.signal,
    });
    if (options?.mode !== undefined) {
      await this.client.send({
        method: 'PUT',
        path: `/filesystem/${this.systemPath}/ops/chmod`,
        json: { path, mode: options.mode.toString(8) },
        expect: [200],
        retry: 'idempotent',
        action: `set the mode of ${path}`,
        signal: options?.signal,
      });
    }
  }

  async mkdir(path: string, options?: CallOptions): Promise<void> {
    assertAbsolute(path);
    await this.client.send({
      method: 'POST',
      path: `/filesystem/${this.systemPath}/ops/mkdir`,
      json: { path, parent: true },
      expect: [201],
      retry: 'idempotent',
      action: `create the directory ${path}`,
      signal: options?.signal,
    });
  }

  async partitions(options?: CallOptions): Promise<Partition[]> {
    const answer = await this.get(
      PartitionsAnswer,
      `/status/${this.systemPath}/partitions`,
      `list the partitions of ${this.system}`,
      {},
      options,
    );
    return (answer.partitions ?? []).map((p) => {
      const state = Array.isArray(p.partition) ? p.partition.join(',') : (p.partition ?? undefined);
      const isDefault = p.name.endsWith('*');
      const partition: Partition = { name: isDefault ? p.name.slice(0, -1) : p.name, isDefault };
      if (state) partition.state = state;
      if (typeof p.totalNodes === 'number') partition.totalNodes = p.totalNodes;
      return partition;
    });
  }

  async reservations(options?: CallOptions): Promise<Reservation[]> {
    const answer = await this.get(
      ReservationsAnswer,
      `/status/${this.systemPath}/reservations`,
      `list the reservations of ${this.system}`,
      {},
      options,
    );
    return (answer.reservations ?? []).map((r) => {
      const reservation: Reservation = { name: r.name };
      if (r.state) reservation.state = r.state;
      if (typeof r.startTime === 'number') reservation.startTime = new Date(r.startTime * 1000).toISOString();
      if (typeof r.endTime === 'number') reservation.endTime = new Date(r.endTime * 1000).toISOString();
      if (r.nodeList) reservation.nodes = r.nodeList;
      return reservation;
    });
  }

  private async readIdentity(options?: CallOptions): Promise<Identity> {
    const info = await this.get(
      UserInfoAnswer,
      `/status/${this.systemPath}/userinfo`,
      `read your user information on ${this.system}`,
      {},
      options,
    );
    const user = info.user.name;
    const listedDefault = info.accounts?.find((a) => a.default)?.name;
    const defaultAccount = listedDefault ?? info.group.name;
    const accountSource = listedDefault ? 'FirecREST userinfo default account' : 'FirecREST userinfo group';
    let home = this.options.homeDir;
    if (!home) {
      const users = (await this.systemInfo(options)).fileSystems?.find((fs) => fs.dataType === 'users');
      home = posix.join(users?.path ?? '/users', user);
    }
    return { user, defaultAccount, accountSource, home };
  }

  private async maxOpsBytes(options?: CallOptions): Promise<number> {
    const entry = await this.systemInfo(options);
    return entry.dataOperation?.max_ops_file_size ?? DEFAULT_MAX_OPS_BYTES;
  }

  private async job(jobId: string, options?: CallOptions): Promise<JobInfo | undefined> {
    const answer = await this.client.send({
      method: 'GET',
      path: `/compute/${this.systemPath}/jobs/${jobId}`,
      expect: [200],
      accept: (status) => status === 404,
      retry: 'idempotent',
      action: `read the status of job ${jobId} on ${this.system}`,
      signal: options?.signal,
    });
    if (answer.status === 404) return undefined;
    const jobs = parseAnswer(JobsAnswer, answer.json(), 'job').jobs ?? [];
    const entry = jobs.find((j) => j.jobId === jobId) ?? jobs[0];
    if (!entry) return undefined;
    this.seenJobIds.add(entry.jobId);
    return isAccountingPlaceholder(entry) ? undefined : toJobInfo(entry);
  }

  private async listJobs(
    query: { name?: string; timeWindow?: FirecrestTimeWindow },
    options?: CallOptions,
  ): Promise<JobInfo[]> {
    const answer = await this.get(
      JobsAnswer,
      `/compute/${this.systemPath}/jobs`,
      `list your jobs on ${this.system}`,
      {
        allusers: false,
        time_window: query.timeWindow ?? this.options.statusTimeWindow ?? '24h',
        name: query.name,
      },
      options,
    );
    const jobs = answer.jobs ?? [];
    for (const entry of jobs) this.seenJobIds.add(entry.jobId);
    return jobs.filter((entry) => !isAccountingPlaceholder(entry)).map(toJobInfo);
  }

  /** The id of the job submitted under `name` with `tag`, looked for a few times within the budget. */
  private async findSubmission(
    name: string,
    tag: string,
    deadline: number,
    failure: SmlError,
    options?: CallOptions,
  ): Promise<string | undefined> {
    for (let look = 0; look < 3; look++) {
      let jobs: JobInfo[];
      try {
        jobs = (await this.listJobs({ name }, options)).filter((job) => job.comment === tag);
      } catch (error) {
        if (look > 0) return undefined;
        // Not even the job list answers: whether the job was queued is unknown.
        throw new SmlError(
          failure.code,
          `${failure.message} The job may or may not have been queued: the job list could not be read either.`,
          {
            hint: `Check your jobs (tag '${tag}') before launching again.`,
            details: { ...failure.details, tag },
            httpStatus: failure.httpStatus,
            serverMessage: failure.serverMessage,
            isAmbiguous: true,
            cause: error,
          },
        );
      }
      if (jobs.length > 0) return jobs.map((j) => j.jobId).sort(compareJobIds)[0];
      // A request that timed out may still be on its way to sbatch: look again shortly.
      const delay = this.client.backoffDelay(look + 1);
      if (look === 2 || Date.now() + delay > deadline) break;
      await sleep(delay, undefined, { signal: options?.signal });
    }
    return undefined;
  }

  private async get<T extends z.ZodType>(
    schema: T,
    path: string,
    action: string,
    query: Record<string, QueryValue>,
    options?: CallOptions,
  ): Promise<z.infer<T>> {
    const answer = await this.client.send({
      method: 'GET',
      path,
      query,
      expect: [200],
      retry: 'idempotent',
      action,
      signal: options?.signal,
    });
    return parseAnswer(schema, answer.json(), action);
  }

  private rangeTransport(options?: CallOptions): RangeTransport {
    const ops = `/filesystem/${this.systemPath}/ops`;
    return {
      size: (path) => this.fileSize(path, options),
      maxOpsBytes: () => this.maxOpsBytes(options),
      tailFrom: async (path, offset) => {
        // `tail -c +N` starts at byte N counted from 1.
        const answer = await this.get(
          TailAnswer,
          `${ops}/tail`,
          `read ${path}`,
          { path, bytes: offset + 1, skipHeading: true },
          options,
        );
        return answer.output.content;
      },
      view: async (path, offset, size) => {
        const answer = await this.get(
          ViewAnswer,
          `${ops}/view`,
          `read ${path}`,
          { path, offset, size },
          options,
        );
        return answer.output;
      },
    };
  }
}

function parseAnswer<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new SmlError('SCHEDULER_ERROR', `FirecREST answered the ${what} request with an unexpected shape.`, {
    hint: 'The FirecREST server may be a version sml-mcp does not know; report this with the server version.',
    details: { issues: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`) },
  });
}

function isAmbiguousSubmitFailure(error: unknown): boolean {
  if (!(error instanceof SmlError) || !error.isAmbiguous) return false;
  return !(error.httpStatus === 500 && SBATCH_REFUSED.test(error.serverMessage ?? ''));
}

function asSubmitError(error: unknown): unknown {
  if (!(error instanceof SmlError)) return error;
  if (!['SCHEDULER_ERROR', 'INVALID_ARGUMENT', 'PERMISSION_DENIED', 'NOT_FOUND'].includes(error.code))
    return error;
  const isQuota = error.httpStatus === 403;
  return new SmlError('SUBMIT_FAILED', error.message, {
    hint: isQuota
      ? 'Your account or QOS limit was reached; wait for running jobs to end or use another account.'
      : 'SLURM refused the job script; the message above is what sbatch said (partition, account, time limit?).',
    details: error.details,
    httpStatus: error.httpStatus,
    serverMessage: error.serverMessage,
    cause: error,
  });
}

function assertAbsolute(path: string): void {
  if (!posix.isAbsolute(path)) {
    throw new SmlError('INVALID_ARGUMENT', `The path '${path}' is not absolute.`, {
      hint: 'Paths on the cluster must start with /.',
    });
  }
}

function compareJobIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
