import { setTimeout as sleep } from 'node:timers/promises';
import { LOG_FILE_PATTERN } from '../domain/ids.js';
import { JOB_TAG_PREFIX } from '../domain/job-name.js';
import type { SystemProfile } from '../domain/system.js';
import { SmlError } from '../errors.js';
import { logger } from '../log.js';
import { ENDED_STATES, type JobInfo, type Scheduler } from '../scheduler/scheduler.js';
import type { JobServiceApi, WaitProgress, WaitResult } from './api.js';
import { diagnoseFailure } from './diagnosis.js';
import { collectEngineFigures } from './engine-metrics.js';
import { probeGateway } from './gateway-probe.js';
import { deriveLifecycle, hasReached, timeBudget } from './lifecycle.js';
import { ErrorTails, readLogChunk } from './log-reads.js';
import { LaunchRecovery } from './recovery.js';
import { StatusSweeps } from './status-sweeps.js';
import {
  currentReason,
  describeProgress,
  endpointsOf,
  type LaunchLayout,
  readHealthReport,
} from './status-view.js';
import type { JobStore, LaunchJobRecord, LaunchRecord } from './store.js';
import type {
  CancelResultView,
  JobStatusView,
  LaunchResultView,
  LogChunkView,
  MetricsSnapshotView,
  WaitTarget,
} from './types.js';

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
  private readonly errorTails = new ErrorTails();
  /** Status sweeps shared by the callers asking at once (and by other processes on the same state). */
  private readonly sweeps: StatusSweeps;

  /** Launches left unsettled (a lost sbatch answer, a process killed mid-launch) are resolved by their readers. */
  private readonly recovery: LaunchRecovery;

  constructor(private readonly deps: JobServiceDeps) {
    this.sweeps = new StatusSweeps({
      store: deps.store,
      now: () => this.now(),
      ttlMs: deps.statusSweepTtlMs,
    });
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
    await this.sweeps.forget(result.system);
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
      const infos = await this.sweeps.sweep(
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
    return { job_id: jobId, file, ...(await readLogChunk(scheduler, path, options)) };
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
    await this.sweeps.forget(ref.system.name);
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
    const replicas = await collectEngineFigures(status!.endpoints, options.signal);
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
      ? await readHealthReport(scheduler, logDir, layout, info?.nodes, signal)
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
        const tails = await this.errorTails.read(scheduler, logDir, layout, signal);
        this.endedHints.set(ref.jobId, diagnoseFailure(tails, info));
        this.errorTails.forget(logDir);
      }
      failureHint = this.endedHints.get(ref.jobId) ?? null;
    } else if (lifecycle.phase === 'starting' || lifecycle.phase === 'degraded') {
      // A replica that crashed while the job still runs shows up here before SLURM ends the job.
      failureHint = diagnoseFailure(await this.errorTails.read(scheduler, logDir, layout, signal), info);
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
}

/** Failures that may pass by themselves: the scheduler (or its accounting) did not answer this time. */
function isTransient(error: unknown): boolean {
  return (
    error instanceof SmlError &&
    (error.code === 'SCHEDULER_UNREACHABLE' || error.code === 'TIMEOUT' || error.code === 'RATE_LIMITED')
  );
}
