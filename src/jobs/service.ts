import { setTimeout as sleep } from 'node:timers/promises';
import { LOG_FILE_PATTERN } from '../domain/ids.js';
import { JOB_TAG_PREFIX } from '../domain/job-name.js';
import type { launchLayoutOf } from '../domain/launch-spec.js';
import type { SystemProfile } from '../domain/system.js';
import { SmlError } from '../errors.js';
import { loadUndici } from '../libraries.js';
import { logger } from '../log.js';
import { ENDED_STATES, type JobInfo, type Scheduler } from '../scheduler/scheduler.js';
import { decodeUtf8Prefix } from '../text.js';
import type { JobServiceApi, WaitProgress, WaitResult } from './api.js';
import { diagnoseFailure, type LogText } from './diagnosis.js';
import { probeGateway } from './gateway-probe.js';
import {
  deriveLifecycle,
  type HealthReport,
  hasReached,
  parseHealthReport,
  timeBudget,
} from './lifecycle.js';
import { parsePrometheusText, summarizeEngineMetrics } from './prometheus.js';
import { LaunchRecovery } from './recovery.js';
import type { JobStore, LaunchJobRecord, LaunchRecord } from './store.js';
import type {
  CancelResultView,
  Endpoint,
  JobStatusView,
  LaunchResultView,
  LogChunkView,
  MetricsSnapshotView,
  WaitTarget,
} from './types.js';

const DEFAULT_LOG_READ_BYTES = 256 * 1024;
const MAX_LOG_READ_BYTES = 4 * 1024 * 1024;
const DIAGNOSIS_TAIL_BYTES = 64 * 1024;

/** What the service needs to know of a launch to read its files and endpoints (ports, router, log files). */
export type LaunchLayout = ReturnType<typeof launchLayoutOf>;

export interface JobServiceDeps {
  store: JobStore;
  /** A profile by name (the default system when undefined); throws SmlError UNKNOWN_SYSTEM / NOT_CONFIGURED. */
  resolveSystem(name?: string): SystemProfile;
  schedulerFor(profile: SystemProfile): Scheduler;
  /** How launches are planned, rendered and submitted (src/jobs/launcher.ts). */
  launcher?: {
    launch(
      request: unknown,
      options: { dryRun?: boolean; idempotencyKey?: string; signal?: AbortSignal },
    ): Promise<LaunchResultView>;
  };
  /** The layout of a recorded launch (from its stored spec); its ports as job `jobId` uses them. */
  layoutOf(record: LaunchRecord, jobId?: string): LaunchLayout;
  pollIntervalMs?: number;
  /** How long one scheduler sweep serves every status caller (default STATUS_SWEEP_TTL_MS; 0 = never shared). */
  statusSweepTtlMs?: number;
  /** How long a lost submit may still land before it counts as never queued (tests shorten it). */
  submitSettleMs?: number;
  now?: () => number;
  /** The research API key for the gateway probe (SML_SWISSAI_RESEARCH_API_KEY); no probe without it. */
  gatewayKey?: () => string | undefined;
}

/** How long one scheduler sweep answers every status caller (the pollers ask every 2 s). */
const STATUS_SWEEP_TTL_MS = 1500;

interface Sweep {
  ids: Set<string>;
  result: Promise<Map<string, JobInfo>>;
  settledAt?: number;
}

interface JobRef {
  jobId: string;
  launch?: LaunchRecord;
  job?: LaunchJobRecord;
  system: SystemProfile;
}

export class JobService implements JobServiceApi {
  private readonly workingDirs = new Map<string, Promise<string>>();
  /** Hints of ended jobs never change; read their logs once. */
  private readonly endedHints = new Map<string, JobStatusView['failure_hint']>();
  /** Jobs seen running, and when one was then seen queued again (requeued), by job id. */
  private readonly runs = new Map<string, { requeuedAt?: number }>();
  /** Error-log tails of starting jobs by path, re-read only when the file grew (status is polled). */
  private readonly errorTails = new Map<string, { size: number; text: string }>();
  /** The last status sweep per system: callers asking while it runs share it. */
  private readonly sweeps = new Map<string, Sweep>();

  /** Launches left unsettled (a lost sbatch answer, a process killed mid-launch) are resolved by their readers. */
  private readonly recovery: LaunchRecovery;

  constructor(private readonly deps: JobServiceDeps) {
    this.recovery = new LaunchRecovery({
      store: deps.store,
      schedulerOf: (record) => deps.schedulerFor(deps.resolveSystem(record.system)),
      settleMs: deps.submitSettleMs,
      lookupIntervalMs: 5000,
      now: deps.now,
    });
  }

  async launch(
    request: unknown,
    options: { dryRun?: boolean; idempotencyKey?: string; signal?: AbortSignal } = {},
  ): Promise<LaunchResultView> {
    if (!this.deps.launcher) throw new SmlError('INTERNAL', 'No launcher is configured in this job service.');
    const result = await this.deps.launcher.launch(request, options);
    await this.forgetSweep(result.system);
    return result;
  }

  async status(
    jobIds: readonly string[] | undefined,
    options: { signal?: AbortSignal } = {},
  ): Promise<JobStatusView[]> {
    const refs =
      jobIds === undefined
        ? await this.myJobs(options.signal)
        : await Promise.all(jobIds.map((id) => this.refOf(id)));
    const bySystem = new Map<string, JobRef[]>();
    for (const ref of refs) bySystem.set(ref.system.name, [...(bySystem.get(ref.system.name) ?? []), ref]);
    const views: JobStatusView[] = [];
    for (const group of bySystem.values()) {
      const scheduler = this.deps.schedulerFor(group[0]!.system);
      const infos = await this.sweep(
        group[0]!.system,
        scheduler,
        group.map((r) => r.jobId),
      );
      for (const ref of group)
        views.push(await this.viewOf(ref, infos.get(ref.jobId), scheduler, options.signal));
    }
    await this.noteBrokenChains(views, refs, options.signal);
    const order = new Map(refs.map((r, i) => [r.jobId, i]));
    return views.sort((a, b) => (order.get(a.job_id) ?? 0) - (order.get(b.job_id) ?? 0));
  }

  /**
   * A chain job whose predecessor ended without ever running (cancelled while queued) will end as
   * soon as it starts (master.sh's chain guard): say so while it still waits in the queue.
   */
  private async noteBrokenChains(views: JobStatusView[], refs: readonly JobRef[], signal?: AbortSignal) {
    for (const view of views) {
      if (view.chain_index === 0 || view.phase === 'ended') continue;
      const previous = views.find(
        (v) =>
          v.launch_id === view.launch_id && v.chain_index === view.chain_index - 1 && v.phase === 'ended',
      );
      const ref = refs.find((r) => r.jobId === previous?.job_id);
      if (!previous || !ref) continue;
      const scheduler = this.deps.schedulerFor(ref.system);
      const hasRun =
        (await scheduler.fileSize(`${await this.logDirOf(ref, scheduler)}/log.out`, { signal })) !==
        undefined;
      if (hasRun && previous.failure_hint?.signature !== 'chain_broken') continue;
      view.notes.push(
        `The chain is broken: job ${previous.job_id} before this one ended without serving its turn (${previous.end_reason ?? 'unknown'}), so this job will end as soon as it starts instead of running early. Cancel the rest of the chain and launch again for the time still wanted.`,
      );
    }
  }

  async waitFor(
    jobIds: readonly string[],
    target: WaitTarget,
    options: {
      timeoutS: number;
      signal?: AbortSignal;
      onProgress?: (progress: WaitProgress) => void | Promise<void>;
    },
  ): Promise<WaitResult> {
    const started = this.now();
    const deadline = started + options.timeoutS * 1000;
    let lastStatuses: JobStatusView[] | undefined;
    for (;;) {
      let statuses: JobStatusView[];
      try {
        statuses = await this.status(jobIds, { signal: options.signal });
      } catch (error) {
        // A scheduler that does not answer for a moment does not end the wait; its deadline does.
        if (!isTransient(error) || this.now() >= deadline) {
          if (lastStatuses && isTransient(error))
            return { reached: false, timed_out: true, statuses: lastStatuses };
          throw error;
        }
        logger.info({ err: (error as Error).message }, 'status failed during a wait; retrying');
        await options.onProgress?.({
          elapsed_s: Math.round((this.now() - started) / 1000),
          message: `the scheduler did not answer (${(error as SmlError).code}); retrying`,
          statuses: lastStatuses ?? [],
        });
        await this.pauseBefore(deadline, options.signal);
        continue;
      }
      lastStatuses = statuses;
      const isDone = statuses.every((s) => hasReached(s.phase, target));
      const hasEndedFirst = target !== 'ended' && statuses.some((s) => s.phase === 'ended');
      await options.onProgress?.({
        elapsed_s: Math.round((this.now() - started) / 1000),
        message: statuses.map(describeProgress).join('; '),
        statuses,
      });
      if (isDone || hasEndedFirst) return { reached: isDone, timed_out: false, statuses };
      if (this.now() >= deadline) return { reached: false, timed_out: true, statuses };
      await this.pauseBefore(deadline, options.signal);
    }
  }

  /** One poll interval (less when the deadline is nearer); an abort ends the wait with CANCELLED. */
  private async pauseBefore(deadline: number, signal?: AbortSignal): Promise<void> {
    const pause = Math.min(this.deps.pollIntervalMs ?? 2000, Math.max(0, deadline - this.now()));
    await sleep(pause, undefined, { signal }).catch(() => {
      throw new SmlError('CANCELLED', 'The wait was cancelled.');
    });
  }

  async readLog(
    jobId: string,
    file: string,
    options: { cursor?: number; tailLines?: number; maxBytes?: number; signal?: AbortSignal } = {},
  ): Promise<LogChunkView> {
    if (!LOG_FILE_PATTERN.test(file)) {
      throw new SmlError('INVALID_ARGUMENT', `"${file}" is not a log file name.`, {
        hint: "Use a plain file name such as log.out, log.err, replica_0.out or router.err (see the job's log list).",
      });
    }
    if (options.cursor !== undefined && (!Number.isInteger(options.cursor) || options.cursor < 0)) {
      throw new SmlError('INVALID_ARGUMENT', `cursor ${options.cursor} is not a byte offset.`, {
        hint: 'Pass the next_cursor of the previous read, or 0 to start at the beginning.',
      });
    }
    const ref = await this.refOf(jobId);
    const scheduler = this.deps.schedulerFor(ref.system);
    const path = `${await this.logDirOf(ref, scheduler)}/${file}`;
    const callOptions = { signal: options.signal };
    const size = await scheduler.fileSize(path, callOptions);
    const base = { job_id: jobId, file };
    if (size === undefined) {
      return {
        ...base,
        text: '',
        next_cursor: options.cursor ?? 0,
        size: 0,
        is_missing: true,
        has_more: false,
      };
    }
    const maxBytes = Math.min(options.maxBytes ?? DEFAULT_LOG_READ_BYTES, MAX_LOG_READ_BYTES);
    if (options.tailLines !== undefined && options.cursor === undefined) {
      const start = Math.max(0, size - maxBytes);
      const chunk = await scheduler.readFile(path, start, size - start, callOptions);
      const data = skipContinuationBytes(chunk.data, start > 0);
      const { text, consumed } = decodeUtf8Prefix(data);
      const lines = text.split('\n');
      const hasFinalNewline = text.endsWith('\n');
      const body = hasFinalNewline ? lines.slice(0, -1) : lines;
      const tail =
        body.slice(-options.tailLines).join('\n') + (hasFinalNewline && body.length > 0 ? '\n' : '');
      return {
        ...base,
        text: tail,
        next_cursor: start + (chunk.data.length - data.length) + consumed,
        size: chunk.size,
        is_missing: false,
        has_more: false,
      };
    }
    const cursor = Math.min(options.cursor ?? 0, size);
    const chunk = await scheduler.readFile(path, cursor, maxBytes, callOptions);
    const { text, consumed } = decodeUtf8Prefix(chunk.data);
    return {
      ...base,
      text,
      next_cursor: cursor + consumed,
      size: chunk.size,
      is_missing: false,
      has_more: cursor + consumed < chunk.size,
    };
  }

  async listLogFiles(jobId: string): Promise<string[]> {
    const ref = await this.refOf(jobId);
    if (!ref.launch) return ['log.out', 'log.err'];
    return this.deps.layoutOf(ref.launch).logFiles;
  }

  async describeCancel(jobId: string, options: { wholeChain?: boolean } = {}) {
    const ref = await this.refOf(jobId);
    const targets = this.cancelTargets(ref, options.wholeChain ?? true);
    const isOurs = ref.launch !== undefined || (await this.isTaggedOurs(ref));
    const what = ref.launch
      ? `${ref.launch.served_model_name} (${ref.launch.framework}) on ${ref.system.name}`
      : `job ${jobId} on ${ref.system.name}`;
    const summary =
      targets.length > 1
        ? `Cancel ${targets.length} jobs of the chain serving ${what}: ${targets.join(', ')}?`
        : `Cancel job ${jobId} serving ${what}?`;
    return { job_ids: targets, summary, is_ours: isOurs };
  }

  async cancel(
    jobId: string,
    options: { wholeChain?: boolean; allowForeign?: boolean; signal?: AbortSignal } = {},
  ): Promise<CancelResultView[]> {
    const ref = await this.refOf(jobId);
    if (!ref.launch && !options.allowForeign && !(await this.isTaggedOurs(ref, options.signal))) {
      throw new SmlError('NOT_OWNED', `Job ${jobId} was not launched by sml-mcp.`, {
        hint: 'Cancel it with scancel yourself, or pass allow_foreign: true if you really mean to cancel it from here.',
      });
    }
    const scheduler = this.deps.schedulerFor(ref.system);
    const results: CancelResultView[] = [];
    // Later jobs of a chain first, so no successor starts while its predecessors are being cancelled.
    for (const target of this.cancelTargets(ref, options.wholeChain ?? true).reverse()) {
      const result = await scheduler.cancel(target, { signal: options.signal });
      results.push({
        job_id: target,
        cancelled: !result.alreadyEnded,
        already_ended: result.alreadyEnded,
        note: result.note ?? null,
      });
    }
    await this.forgetSweep(ref.system.name);
    return results.reverse();
  }

  async scripts(jobId: string): Promise<Record<string, string>> {
    const ref = await this.refOf(jobId);
    if (!ref.job) {
      throw new SmlError('NOT_FOUND', `Job ${jobId} has no local record, so its scripts are unknown here.`, {
        hint: "Scripts are kept for jobs launched from this machine; the job's working directory on the cluster holds the extracted rank scripts under ~/.sml/job-<id>/.",
      });
    }
    return ref.job.scripts;
  }

  async metrics(jobId: string, options: { signal?: AbortSignal } = {}): Promise<MetricsSnapshotView> {
    const [status] = await this.status([jobId], options);
    const replicas = await Promise.all(
      status!.endpoints
        .filter((e) => e.kind === 'replica')
        .map(async (endpoint) => {
          const url = endpoint.url.replace(/\/v1$/, '/metrics');
          const empty = { replica: endpoint.replica ?? 0, url, ...summarizeEngineMetrics([]) };
          try {
            const { request } = await loadUndici();
            const response = await request(url, {
              headersTimeout: 3000,
              bodyTimeout: 3000,
              signal: options.signal,
            });
            const body = await response.body.text();
            if (response.statusCode !== 200)
              return { ...empty, reachable: false, error: `HTTP ${response.statusCode}` };
            return {
              ...empty,
              ...summarizeEngineMetrics(parsePrometheusText(body)),
              reachable: true,
              error: null,
            };
          } catch (error) {
            return {
              ...empty,
              reachable: false,
              error: `not reachable from this machine: ${(error as Error).message}`,
            };
          }
        }),
    );
    return {
      job_id: jobId,
      collected_at: new Date(this.now()).toISOString(),
      replicas,
      replica_health: status!.replica_health,
    };
  }

  async knownJobIds(): Promise<string[]> {
    const launches = await this.recovery.resolveAll(await this.deps.store.list());
    return launches.flatMap((l) => l.jobs.flatMap((j) => (j.job_id ? [j.job_id] : [])).reverse());
  }

  // ——— internals ———

  /**
   * The scheduler's answer for these jobs, shared: every caller asking while a sweep runs, or within
   * the sweep TTL after, gets that sweep, in this process or (through the job store) in any other
   * on the same state: log followers, waits and watchers poll the same jobs.
   */
  private sweep(
    system: SystemProfile,
    scheduler: Scheduler,
    ids: readonly string[],
  ): Promise<Map<string, JobInfo>> {
    const ttl = this.deps.statusSweepTtlMs ?? STATUS_SWEEP_TTL_MS;
    const recent = this.sweeps.get(system.name);
    const isInFlight = recent !== undefined && recent.settledAt === undefined;
    if (recent && isInFlight && ids.every((id) => recent.ids.has(id))) return recent.result;
    // A settled sweep is shared through the store (so another process's cancel is seen at once);
    // a new sweep also covers what the last one did, so pollers of different jobs keep sharing.
    const isRecent = recent !== undefined && (isInFlight || this.now() - recent.settledAt! < ttl);
    const covered = [...new Set(isRecent ? [...recent!.ids, ...ids] : ids)];
    const entry: Sweep = {
      ids: new Set(covered),
      result: this.sweepOnce(system.name, scheduler, covered, ttl),
    };
    this.sweeps.set(system.name, entry);
    entry.result.then(
      () => {
        entry.settledAt = this.now();
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
    if (shared && this.now() - shared.at < ttl && ids.every((id) => shared.ids.includes(id)))
      return new Map(shared.jobs.filter((job) => ids.includes(job.jobId)).map((job) => [job.jobId, job]));
    const jobs = await scheduler.statuses(ids);
    if (ttl > 0) {
      await this.deps.store
        .writeSweep(system, { at: this.now(), ids: [...ids], jobs: [...jobs.values()] })
        .catch((error: unknown) => logger.debug({ err: error }, 'status sweep not shared'));
    }
    return jobs;
  }

  /** When this service saw the job queued again after it ran (a requeue), if it did. */
  private noteRequeue(jobId: string, info: JobInfo | undefined): number | undefined {
    const run = this.runs.get(jobId);
    if (info?.state === 'RUNNING') {
      if (!run) this.runs.set(jobId, {});
    } else if (run && (info?.state === 'PENDING' || info?.state === 'REQUEUED')) {
      run.requeuedAt = this.now();
    } else if (!info || ENDED_STATES.has(info.state)) {
      this.runs.delete(jobId);
    }
    return this.runs.get(jobId)?.requeuedAt;
  }

  private async forgetSweep(system: string): Promise<void> {
    this.sweeps.delete(system);
    await this.deps.store.removeSweep(system);
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private async refOf(jobId: string): Promise<JobRef> {
    if (!/^\d+(?:_\d+)?$/.test(jobId)) {
      throw new SmlError('INVALID_ARGUMENT', `"${jobId}" is not a SLURM job id.`, {
        hint: 'Job ids are numbers such as 12345; call status without ids to list your jobs.',
      });
    }
    const found = await this.deps.store.findByJobId(jobId);
    if (found)
      return {
        jobId,
        launch: found.launch,
        job: found.job,
        system: this.deps.resolveSystem(found.launch.system),
      };
    return { jobId, system: this.deps.resolveSystem() };
  }

  /** Recorded launches that may still matter, plus tagged jobs SLURM knows on the default system. */
  private async myJobs(signal?: AbortSignal): Promise<JobRef[]> {
    const refs = new Map<string, JobRef>();
    for (const launch of await this.recovery.resolveAll(await this.deps.store.list(), { signal })) {
      for (const job of launch.jobs) {
        if (job.job_id)
          refs.set(job.job_id, {
            jobId: job.job_id,
            launch,
            job,
            system: this.deps.resolveSystem(launch.system),
          });
      }
    }
    try {
      const system = this.deps.resolveSystem();
      const tagged = await this.deps.schedulerFor(system).findTaggedJobs(JOB_TAG_PREFIX, { signal });
      for (const info of tagged)
        if (!refs.has(info.jobId)) refs.set(info.jobId, { jobId: info.jobId, system });
    } catch (error) {
      logger.debug({ err: error }, 'no default system to list tagged jobs from');
    }
    return [...refs.values()];
  }

  private cancelTargets(ref: JobRef, wholeChain: boolean): string[] {
    if (!ref.launch || !wholeChain) return [ref.jobId];
    return ref.launch.jobs.flatMap((j) => (j.job_id ? [j.job_id] : []));
  }

  private async isTaggedOurs(ref: JobRef, signal?: AbortSignal): Promise<boolean> {
    const infos = await this.deps.schedulerFor(ref.system).statuses([ref.jobId], { signal });
    const info = infos.get(ref.jobId);
    if (!info) {
      throw new SmlError('NOT_FOUND', `Job ${ref.jobId} is unknown to ${ref.system.name}.`, {
        hint: "Check the id; jobs that ended long ago leave the scheduler's records.",
      });
    }
    return info.comment?.startsWith(JOB_TAG_PREFIX) ?? false;
  }

  private workingDirOf(system: SystemProfile, scheduler: Scheduler): Promise<string> {
    let dir = this.workingDirs.get(system.name);
    if (!dir) {
      dir = scheduler.workingDir();
      dir.catch(() => this.workingDirs.delete(system.name));
      this.workingDirs.set(system.name, dir);
    }
    return dir;
  }

  private async logDirOf(ref: JobRef, scheduler: Scheduler): Promise<string> {
    const workingDir = ref.launch?.working_dir ?? (await this.workingDirOf(ref.system, scheduler));
    return `${workingDir}/logs/${ref.jobId}`;
  }

  private async viewOf(
    ref: JobRef,
    info: JobInfo | undefined,
    scheduler: Scheduler,
    signal?: AbortSignal,
  ): Promise<JobStatusView> {
    const layout = ref.launch ? this.deps.layoutOf(ref.launch, ref.jobId) : undefined;
    const logDir = await this.logDirOf(ref, scheduler);
    // Only a running job has replicas; the report an ended (or requeued) job left behind says nothing now.
    const isRunning = info?.state === 'RUNNING';
    const requeuedAt = this.noteRequeue(ref.jobId, info);
    const lastReport = isRunning
      ? await this.readHealthReport(scheduler, logDir, layout, info?.nodes, signal)
      : undefined;
    // Until its new run reports, a requeued job's report is its previous run's (master.sh removes it, but only once it runs).
    const report =
      lastReport && requeuedAt !== undefined && lastReport.checked_at * 1000 < requeuedAt
        ? undefined
        : lastReport;
    // Without a local record the job itself tells: its health checker reports every replica it runs.
    const replicasExpected = layout?.replicas ?? report?.replicas.length ?? 0;
    // The launch record is written just before its jobs are submitted.
    const submittedAtS = ref.launch ? Date.parse(ref.launch.created_at) / 1000 : undefined;
    const lifecycle = deriveLifecycle(info, report, replicasExpected, this.now() / 1000, submittedAtS);
    let failureHint: JobStatusView['failure_hint'] = null;
    if (
      lifecycle.phase === 'ended' &&
      lifecycle.end_reason !== 'cancelled' &&
      lifecycle.end_reason !== 'completed'
    ) {
      if (!this.endedHints.has(ref.jobId)) {
        const tails = await this.readErrorTails(scheduler, logDir, layout, signal);
        this.endedHints.set(ref.jobId, diagnoseFailure(tails, info));
        this.forgetErrorTails(logDir);
      }
      failureHint = this.endedHints.get(ref.jobId) ?? null;
    } else if (lifecycle.phase === 'starting' || lifecycle.phase === 'degraded') {
      // A replica that crashed while the job still runs shows up here before SLURM ends the job.
      failureHint = diagnoseFailure(await this.readErrorTails(scheduler, logDir, layout, signal), info);
    }
    const launch = ref.launch;
    return {
      job_id: ref.jobId,
      launch_id: launch?.launch_id ?? '',
      chain_index: ref.job?.index ?? 0,
      chain_length: launch?.jobs.length ?? 1,
      served_model_name: launch?.served_model_name ?? '',
      framework: launch?.framework ?? 'sglang',
      system: ref.system.name,
      phase: lifecycle.phase,
      end_reason: lifecycle.end_reason,
      slurm_state: info?.state ?? 'UNKNOWN',
      slurm_reason: currentReason(info, lifecycle.phase),
      submitted_at: info?.submitTime ?? null,
      started_at: info?.startTime ?? null,
      ended_at: lifecycle.phase === 'ended' ? (info?.endTime ?? null) : null,
      ...timeBudget(info, lifecycle.phase, this.now() / 1000),
      nodes: info?.nodes ?? [],
      endpoints: lifecycle.phase === 'ended' ? [] : endpointsOf(report, layout, ref.system),
      replicas_expected: replicasExpected,
      replicas_healthy: lifecycle.replicas_healthy,
      replica_health: report?.replicas ?? [],
      health_report_age_s: lifecycle.health_report_age_s,
      failure_hint: failureHint,
      is_recorded_locally: launch !== undefined,
      notes: info?.note ? [info.note] : [],
      gateway: await this.gatewayProbeOf(ref, layout, lifecycle.phase, signal),
    };
  }

  /** SML's gateway check, for a serving OpenTela deployment when the research key is set. */
  private async gatewayProbeOf(
    ref: JobRef,
    layout: LaunchLayout | undefined,
    phase: JobStatusView['phase'],
    signal?: AbortSignal,
  ): Promise<JobStatusView['gateway']> {
    const key = this.deps.gatewayKey?.();
    const gatewayUrl = ref.system.gatewayUrl;
    if (!key || !gatewayUrl || !layout?.isOpentelaEnabled || !ref.launch) return null;
    if (phase !== 'serving' && phase !== 'degraded') return null;
    return probeGateway(gatewayUrl, ref.launch.served_model_name, key, { signal });
  }

  private async readHealthReport(
    scheduler: Scheduler,
    logDir: string,
    layout: LaunchLayout | undefined,
    jobNodes: readonly string[] | undefined,
    signal?: AbortSignal,
  ): Promise<HealthReport | undefined> {
    try {
      const chunk = await scheduler.readFile(`${logDir}/replica_health.json`, 0, 1024 * 1024, { signal });
      const report = parseHealthReport(
        chunk.data.toString('utf8'),
        layout?.replicaPorts[0] ?? 8080,
        jobNodes,
      );
      if (report && layout) {
        for (const replica of report.replicas)
          replica.port = layout.replicaPorts[replica.replica] ?? replica.port;
      }
      return report;
    } catch (error) {
      if (error instanceof SmlError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  private async readErrorTails(
    scheduler: Scheduler,
    logDir: string,
    layout: LaunchLayout | undefined,
    signal?: AbortSignal,
  ): Promise<LogText[]> {
    const files = (layout?.logFiles ?? ['log.out', 'log.err']).filter(
      (f) => f.endsWith('.err') || f === 'log.out',
    );
    const texts: LogText[] = [];
    for (const file of files) {
      const path = `${logDir}/${file}`;
      const size = await scheduler.fileSize(path, { signal });
      if (!size) continue;
      let tail = this.errorTails.get(path);
      if (tail?.size !== size) {
        const start = Math.max(0, size - DIAGNOSIS_TAIL_BYTES);
        const chunk = await scheduler.readFile(path, start, size - start, { signal });
        tail = { size, text: decodeUtf8Prefix(skipContinuationBytes(chunk.data, start > 0), true).text };
        this.errorTails.set(path, tail);
      }
      texts.push({ file, text: tail.text });
    }
    return texts;
  }

  private forgetErrorTails(logDir: string): void {
    for (const path of this.errorTails.keys())
      if (path.startsWith(`${logDir}/`)) this.errorTails.delete(path);
  }
}

/** An IP literal as the host of a URL (IPv6 in brackets). */
function urlHost(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

function endpointsOf(
  report: HealthReport | undefined,
  layout: LaunchLayout | undefined,
  system: SystemProfile,
): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const replica of report?.replicas ?? []) {
    if (replica.node_ip)
      endpoints.push({
        kind: 'replica',
        replica: replica.replica,
        url: `http://${urlHost(replica.node_ip)}:${replica.port}/v1`,
      });
  }
  const firstIp = report?.replicas[0]?.node_ip;
  if (layout?.routerPort && firstIp)
    endpoints.push({ kind: 'router', url: `http://${urlHost(firstIp)}:${layout.routerPort}/v1` });
  if (layout?.isOpentelaEnabled && system.gatewayUrl)
    endpoints.push({ kind: 'gateway', url: `${system.gatewayUrl}/v1` });
  return endpoints;
}

/** Failures that may pass by themselves: the scheduler (or its accounting) did not answer this time. */
function isTransient(error: unknown): boolean {
  return (
    error instanceof SmlError &&
    (error.code === 'SCHEDULER_UNREACHABLE' || error.code === 'TIMEOUT' || error.code === 'RATE_LIMITED')
  );
}

/** Why SLURM holds a job in the queue: once the job left the queue, such a reason is stale. */
const PENDING_REASON =
  /^(Priority|Resources|Dependency|BeginTime|ReqNodeNotAvail|JobHeld|Reservation|Partition|Assoc|QOS|Licenses|NodeDown|BadConstraints|Prolog|Requeue|Cleaning)/i;

function currentReason(info: JobInfo | undefined, phase: JobStatusView['phase']): string | null {
  const reason = info?.reason;
  if (!reason || reason === 'None') return null;
  return phase === 'queued' || !PENDING_REASON.test(reason) ? reason : null;
}

function describeProgress(status: JobStatusView): string {
  const health =
    status.replicas_expected > 0
      ? ` (${status.replicas_healthy}/${status.replicas_expected} replicas healthy)`
      : '';
  const ending = status.phase === 'ended' ? `(${status.end_reason})` : '';
  return `job ${status.job_id}: ${status.phase}${ending}${health}`;
}

/** A read that starts mid-file may start inside a UTF-8 sequence; drop its continuation bytes. */
function skipContinuationBytes(data: Buffer, isMidFile: boolean): Buffer {
  if (!isMidFile) return data;
  let start = 0;
  while (start < data.length && start < 4 && (data[start]! & 0xc0) === 0x80) start++;
  return data.subarray(start);
}
