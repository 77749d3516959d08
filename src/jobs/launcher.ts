import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Catalog } from '../catalog/catalog.js';
import {
  assertEnvironmentPath,
  MAX_ENVIRONMENT_BYTES,
  parseEnvironmentToml,
  readEnvironmentText,
  resolveEnvironmentReference,
  shippedEnvironment,
  unknownEnvironment,
} from '../catalog/environment.js';
import { ANY_LOCAL_FILE, isLocalPathAllowed, type LocalFilePolicy } from '../config/local-files.js';
import { describeChainStart } from '../domain/chain.js';
import { formatDuration } from '../domain/duration.js';
import { newLaunchId } from '../domain/job-name.js';
import {
  bindPreviousJob,
  buildLaunchSpecs,
  catalogEntryFor,
  environmentReferenceFor,
  LaunchRequest,
  type LaunchSpec,
  type ResolvedEnvironment,
} from '../domain/launch-spec.js';
import type { ConfiguredDefaults, SlurmSettings } from '../domain/slurm-settings.js';
import type { SystemProfile } from '../domain/system.js';
import { SmlError, toSmlError } from '../errors.js';
import { logger } from '../log.js';
import type { CallOptions, Identity, Scheduler, SubmitRequest } from '../scheduler/scheduler.js';
import { currentOwner, LaunchRecovery, submitAsOwner } from './recovery.js';
import { RenderCache, renderUri } from './render-cache.js';
import type { JobStore, LaunchRecord } from './store.js';
import type { LaunchResultView, RenderReview } from './types.js';

/**
 * Launch: validate the request, resolve catalog entry, system and environment, plan the chain,
 * record the launch BEFORE anything is submitted, then render and submit job by job (job i
 * needs job i-1's id), recording each id as soon as SLURM answers.
 */
export interface LauncherDeps {
  store: JobStore;
  catalog: Catalog;
  resolveSystem(name?: string): SystemProfile;
  schedulerFor(profile: SystemProfile): Scheduler;
  /** Identity used for dry runs, which never contact the cluster (config `user`, else the OS user). */
  localUser(): string;
  /** The job's scripts by file name (sbatch/render.ts, injected: the core does not import sbatch/); master.sh is submitted. */
  render(spec: LaunchSpec): Promise<{ 'master.sh': string }>;
  /** What a dry run shows for review (sbatch/review.ts, injected too), read from the rendered scripts. */
  review(spec: LaunchSpec, scripts: Readonly<Record<string, string>>): Promise<RenderReview>;
  /** Partition/account/reservation defaults of the configuration (flags, SML_* env, config file). */
  configuredDefaults?: () => ConfiguredDefaults;
  /** The Hugging Face token of the environment (or secrets file), for jobs that download from the Hub. */
  huggingFaceToken?: () => string | undefined;
  version: string;
  /** Which files of this machine `environment` may name (default: any, for the local user). */
  localFiles?: LocalFilePolicy;
  /** Where dry runs keep their scripts for sml://renders/{render_id}/{script}. */
  renders?: RenderCache;
  /** How long a lost submit may still land before it counts as never queued (tests shorten it). */
  submitSettleMs?: number;
}

export interface LaunchOptions {
  dryRun?: boolean;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export class Launcher {
  private readonly renders: RenderCache;
  private readonly recovery: LaunchRecovery;

  constructor(private readonly deps: LauncherDeps) {
    this.renders = deps.renders ?? new RenderCache();
    this.recovery = new LaunchRecovery({
      store: deps.store,
      schedulerOf: (record) => deps.schedulerFor(deps.resolveSystem(record.system)),
      settleMs: deps.submitSettleMs,
    });
  }

  async launch(input: unknown, options: LaunchOptions = {}): Promise<LaunchResultView> {
    const request = parseLaunchRequest(input);
    const system = this.deps.resolveSystem(request.system);
    const entry = catalogEntryFor(request, this.deps.catalog);
    const environmentReference = {
      path: environmentReferenceFor(request, entry, system),
      // The catalog's and the system's environments are the operator's; only the client's is checked.
      localFiles:
        request.environment === undefined ? ANY_LOCAL_FILE : (this.deps.localFiles ?? ANY_LOCAL_FILE),
    };
    const launchId = newLaunchId();

    if (options.dryRun) {
      const environment = await this.resolveEnvironment(
        environmentReference,
        system,
        this.reachableScheduler(system),
        launchId,
      );
      const plan = buildLaunchSpecs(request, {
        system,
        user: this.deps.localUser(),
        configured: this.deps.configuredDefaults?.(),
        environment,
        catalogEntry: entry,
        launchId,
        version: this.deps.version,
      });
      const head = plan.specs[0]!;
      const scripts: Record<string, string> = { ...(await this.deps.render(head)) };
      const renderId = await this.renders.put(scripts);
      const scriptLinks = Object.entries(scripts).map(([name, text]) => ({
        name,
        uri: renderUri(renderId, name),
        bytes: Buffer.byteLength(text),
      }));
      return {
        launch_id: launchId,
        job_ids: [],
        served_model_name: head.servedModelName,
        system: system.name,
        dry_run: true,
        endpoints: [],
        resource_uris: scriptLinks.map((script) => script.uri),
        schedule: plan.specs.map((spec) => ({
          job_id: `(job ${spec.chain.index + 1})`,
          runs: describeRuns(spec),
        })),
        review: { ...(await this.deps.review(head, scripts)), scripts: scriptLinks },
        slurm_settings: plan.slurmSettings,
        telemetry: plan.telemetry,
        warnings: environment.unreadBecause
          ? [
              `Environment file ${environment.clusterPath} is not on this machine and ${system.name} could not be asked (${environment.unreadBecause}); it is read on the cluster when the job starts, so its image, mounts and [env] are not checked here.`,
              ...plan.warnings,
            ]
          : plan.warnings,
        replayed: false,
      };
    }

    const scheduler = this.deps.schedulerFor(system);
    const callOptions = { signal: options.signal };
    const identity: Identity = await scheduler.whoami(callOptions);
    const workingDir = await scheduler.workingDir(callOptions);
    const environment = await this.resolveEnvironment(
      environmentReference,
      system,
      scheduler,
      launchId,
      workingDir,
    );
    const plan = buildLaunchSpecs(request, {
      system,
      user: identity.user,
      configured: this.deps.configuredDefaults?.(),
      clusterAccount: {
        name: identity.defaultAccount,
        from: identity.accountSource,
        problem: identity.accountProblem,
      },
      environment,
      catalogEntry: entry,
      launchId,
      version: this.deps.version,
    });
    const head = plan.specs[0]!;

    // The record exists before the key points at it and before sbatch runs: whatever stops this
    // process from here on leaves a launch the next reader can resolve, never a stray job.
    const record: LaunchRecord = {
      launch_id: launchId,
      created_at: new Date().toISOString(),
      idempotency_key: options.idempotencyKey,
      system: system.name,
      user: identity.user,
      served_model_name: head.servedModelName,
      framework: head.framework,
      working_dir: workingDir,
      spec: head as unknown as Record<string, unknown>,
      request: request as unknown as Record<string, unknown>,
      jobs: plan.specs.map((spec) => ({
        index: spec.chain.index,
        tag: spec.jobTag,
        state: 'planned',
        scripts: {},
        runs: describeRuns(spec),
      })),
      slurm_settings: plan.slurmSettings,
      telemetry: plan.telemetry,
      warnings: plan.warnings,
      owner: currentOwner(),
    };
    return submitAsOwner(launchId, async () => {
      await this.deps.store.create(record);
      // Claimed once the launch is planned: a request that cannot be planned never holds its key.
      if (options.idempotencyKey !== undefined) {
        // This launch submits only if it holds the key; otherwise its record goes.
        const replayed = await this.claimOrReplay(options.idempotencyKey, launchId, options.signal).catch(
          async (error: unknown) => {
            await this.deps.store.remove(launchId);
            throw error;
          },
        );
        if (replayed) {
          await this.deps.store.remove(launchId);
          return replayed;
        }
      }
      try {
        await scheduler.mkdir(`${workingDir}/logs`, callOptions);
        if (environment.upload) {
          await scheduler.writeFile(environment.clusterPath, environment.upload, {
            ...callOptions,
            mode: 0o644,
          });
        }

        const submitted: string[] = [];
        const token = head.huggingFace ? this.deps.huggingFaceToken?.() : undefined;
        const secretEnv = token ? { HF_TOKEN: token } : undefined;
        for (const planned of plan.specs) {
          const previousJobId = submitted.at(-1);
          const spec = previousJobId === undefined ? planned : bindPreviousJob(planned, previousJobId);
          const scripts = await this.deps.render(spec);
          await this.deps.store.update(launchId, (r) => {
            const job = r.jobs[spec.chain.index]!;
            job.state = 'submitting';
            job.submitting_since = new Date().toISOString();
            job.scripts = { ...scripts };
          });
          // The backends look for the job's tag after an ambiguous failure: one launch is one job.
          const submission = {
            script: scripts['master.sh'],
            scriptPath: `${workingDir}/${spec.jobName}_${spec.chain.index}.sh`,
            workingDir,
            tag: spec.jobTag,
            secretEnv,
          };
          const jobId = await this.submitJob(
            scheduler,
            submission,
            launchId,
            spec.chain.index,
            callOptions,
          ).catch((error: unknown) => {
            const failure = toSmlError(error);
            if (submitted.length === 0) throw failure;
            throw new SmlError(
              'SUBMIT_FAILED',
              `Job ${spec.chain.index + 1} of ${spec.chain.length} of the chain could not be submitted: ${failure.message}`,
              {
                hint: `Jobs ${submitted.join(', ')} are submitted and recorded (launch ${launchId}); cancel them, or let them serve for the time they cover.`,
                details: { launch_id: launchId, job_ids: submitted },
                isAmbiguous: failure.isAmbiguous,
                cause: error,
              },
            );
          });
          await this.deps.store.update(launchId, (r) => {
            const job = r.jobs[spec.chain.index]!;
            job.job_id = jobId;
            job.state = 'submitted';
            job.runs = previousJobId === undefined ? job.runs : describeChainStart(spec.chain, previousJobId);
          });
          submitted.push(jobId);
        }
      } catch (error) {
        // The launch's own error is what the caller needs; a store failure here is only logged.
        await this.settleFailedLaunch(launchId, toSmlError(error), options.idempotencyKey).catch(
          (settleError) => logger.warn({ err: settleError, launchId }, 'could not record the failed launch'),
        );
        throw error;
      }
      return this.resultOf((await this.deps.store.get(launchId))!, false);
    });
  }

  /**
   * Submit one job. When sbatch's answer is lost the job is recorded `ambiguous` and looked for by
   * its tag at once; found, it counts as submitted; still unknown, the ambiguous failure is thrown
   * and the next reader of the launch (a retry with its key, status) resolves it.
   */
  private async submitJob(
    scheduler: Scheduler,
    submission: SubmitRequest,
    launchId: string,
    index: number,
    options: CallOptions,
  ): Promise<string> {
    try {
      return (await scheduler.submit(submission, options)).jobId;
    } catch (error) {
      const failure = toSmlError(error);
      if (!failure.isAmbiguous) throw failure;
      const record = await this.deps.store.update(launchId, (r) => {
        r.jobs[index]!.state = 'ambiguous';
        r.jobs[index]!.error = failure.message;
      });
      const resolved = await this.recovery.resolve(record, options);
      const jobId = resolved.jobs[index]?.job_id;
      if (jobId === undefined) {
        throw new SmlError('SUBMIT_FAILED', failure.message, {
          hint: 'Retry the launch with the same idempotency_key (or call status) once SLURM answers: the job is looked for by its tag, never submitted twice.',
          details: { ...failure.details, launch_id: launchId },
          isAmbiguous: true,
          cause: error,
        });
      }
      logger.warn({ jobId, launchId }, "sbatch's answer was lost; the job was found by its tag");
      return jobId;
    }
  }

  /**
   * After a failed launch: every job that got no id and is not `ambiguous` is recorded as failed
   * (so a replay of its key does not wait for it), and when nothing was queued for certain, the
   * idempotency key is freed so a retry launches again. An ambiguous job keeps the key: it may exist.
   */
  private async settleFailedLaunch(
    launchId: string,
    failure: SmlError,
    key: string | undefined,
  ): Promise<void> {
    const record = await this.deps.store.update(launchId, (r) => {
      for (const job of r.jobs) {
        if (job.job_id !== undefined || job.state === 'ambiguous') continue;
        job.state = 'failed';
        job.error ??= failure.message;
      }
    });
    const hasQueuedNothing = record.jobs.every((job) => job.state === 'failed');
    if (key !== undefined && hasQueuedNothing) {
      await this.deps.store.releaseIdempotencyKey(key, launchId);
    }
  }

  /**
   * Claim the key for this launch, or replay the launch that holds it. An earlier launch that turns
   * out to have queued nothing frees the key on the way, and this launch claims it.
   */
  private async claimOrReplay(
    key: string,
    launchId: string,
    signal?: AbortSignal,
  ): Promise<LaunchResultView | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const earlier = await this.deps.store.claimIdempotencyKey(key, launchId);
      if (earlier === undefined) return undefined;
      const replayed = await this.replay(earlier, key, signal);
      if (replayed) return replayed;
    }
    throw new SmlError('CONFLICT', `Idempotency key "${key}" is being claimed by other launches.`, {
      hint: 'Retry the call in a moment.',
    });
  }

  /** The earlier launch of a key as a replayed result; undefined when it queued nothing (its key is free again). */
  private async replay(
    launchId: string,
    key: string,
    signal?: AbortSignal,
  ): Promise<LaunchResultView | undefined> {
    for (let attempt = 0; attempt < 100; attempt++) {
      let record = await this.deps.store.get(launchId);
      if (record === undefined) {
        // A claim whose record was removed (it replayed another launch) or never written.
        await this.deps.store.releaseIdempotencyKey(key, launchId);
        return undefined;
      }
      record = await this.recovery.resolve(record, { signal });
      if (!LaunchRecovery.isUnsettled(record)) {
        if (record.jobs.some((job) => job.job_id !== undefined)) return this.resultOf(record, true);
        await this.deps.store.releaseIdempotencyKey(key, launchId);
        return undefined;
      }
      const isInFlight =
        this.recovery.isOwnerAlive(record) &&
        record.jobs.some((job) => job.state === 'planned' || job.state === 'submitting');
      if (!isInFlight) {
        throw new SmlError(
          'SUBMIT_FAILED',
          `The launch with idempotency key "${key}" (${launchId}) may have queued its job, but SLURM has not confirmed it yet.`,
          {
            hint: 'Retry with the same idempotency_key in a minute: it returns the job once SLURM lists it, or launches anew once it surely never queued; never both.',
            details: { launch_id: launchId },
            isAmbiguous: true,
          },
        );
      }
      await sleep(100);
    }
    throw new SmlError(
      'CONFLICT',
      `A launch with idempotency key "${key}" (${launchId}) is still being submitted.`,
      {
        hint: 'Call status in a moment, or retry the launch with the same key.',
      },
    );
  }

  private resultOf(record: LaunchRecord, replayed: boolean): LaunchResultView {
    const jobIds = record.jobs.flatMap((j) => (j.job_id ? [j.job_id] : []));
    const head = jobIds[0];
    return {
      launch_id: record.launch_id,
      job_ids: jobIds,
      served_model_name: record.served_model_name,
      system: record.system,
      dry_run: false,
      endpoints: [],
      review: null,
      resource_uris: head
        ? [
            `sml://jobs/${head}`,
            `sml://jobs/${head}/logs/log.out`,
            `sml://jobs/${head}/sbatch/master.sh`,
            `sml://jobs/${head}/metrics`,
          ]
        : [],
      schedule: record.jobs.flatMap((j) => (j.job_id ? [{ job_id: j.job_id, runs: j.runs }] : [])),
      slurm_settings: record.slurm_settings ?? slurmSettingsOfSpec(record.spec),
      telemetry: record.telemetry ?? { endpoint: null, note: 'Not recorded by the version that launched.' },
      warnings: record.warnings,
      replayed,
    };
  }

  /**
   * The environment file as the job sees it. A shipped file, or a local file when the cluster is
   * remote, is uploaded to `<working dir>/env/`; a local file on a local cluster is used in place;
   * anything else is a path on the cluster, read through the scheduler. Local files are only those
   * the policy lets the client name (remote clients: none unless the operator allowed a directory).
   */
  /** A dry run's way to the cluster: the system's scheduler, or why there is none (credentials missing…). */
  private reachableScheduler(system: SystemProfile): Scheduler | string {
    try {
      return this.deps.schedulerFor(system);
    } catch (error) {
      return toSmlError(error).message;
    }
  }

  /**
   * `scheduler` is the cluster to read a cluster path from; for a dry run it may be a string
   * saying why there is none, and a failed read renders anyway (see ResolvedEnvironment.isUnread).
   */
  private async resolveEnvironment(
    { path: reference, localFiles }: { path: string; localFiles: LocalFilePolicy },
    system: SystemProfile,
    scheduler: Scheduler | string,
    launchId: string,
    workingDir?: string,
  ): Promise<ResolvedEnvironment & { upload?: string }> {
    const isDryRun = workingDir === undefined;
    const mayBeLocal = isLocalPathAllowed(reference, localFiles);
    const isLocalFile =
      shippedEnvironment(reference) !== undefined ||
      (mayBeLocal && (!reference.includes('/') || existsSync(reference)));
    if (!isLocalFile && !reference.includes('/')) throw unknownEnvironment(reference);
    if (isLocalFile) {
      const local = resolveEnvironmentReference(reference);
      const text = readEnvironmentText(local.path);
      const file = parseEnvironmentToml(text, local.path);
      const isUsedInPlace = !local.isShipped && system.scheduler.kind === 'slurm';
      if (isUsedInPlace || !workingDir) return { clusterPath: local.path, file };
      return {
        clusterPath: `${workingDir}/env/${launchId}-${basename(local.path)}`,
        file,
        upload: text,
      };
    }
    assertEnvironmentPath(reference);
    // A dry run without a reachable cluster renders with the path alone; the job reads the file.
    const unread = (because: string): ResolvedEnvironment => ({
      clusterPath: reference,
      file: { mounts: [], env: {}, annotations: {} },
      unreadBecause: because,
    });
    if (typeof scheduler === 'string') return unread(scheduler);
    let size: number | undefined;
    try {
      size = await scheduler.fileSize(reference, {
        signal: isDryRun ? AbortSignal.timeout(DRY_RUN_READ_MS) : undefined,
      });
    } catch (error) {
      if (!isDryRun) throw error;
      return unread(toSmlError(error).message);
    }
    if (size === undefined) {
      throw new SmlError(
        'NOT_FOUND',
        `Environment file ${reference} exists neither here nor on ${system.name}.`,
        {
          hint: 'Give a shipped name (sglang.toml, vllm.toml, …), a file on this machine, or an existing path on the cluster.',
        },
      );
    }
    if (size > MAX_ENVIRONMENT_BYTES) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `Environment file ${reference} is ${size} bytes: too large for one.`,
        {
          hint: 'Give the path of an EDF environment file (*.toml, a few hundred bytes).',
        },
      );
    }
    const chunk = await scheduler.readFile(reference, 0, size);
    return { clusterPath: reference, file: parseEnvironmentToml(chunk.data.toString('utf8'), reference) };
  }
}

/** How long a dry run waits for the cluster to read an environment file before rendering without it. */
const DRY_RUN_READ_MS = 15_000;

/** Validate a launch request; zod's first complaint becomes one clear INVALID_ARGUMENT. */
export function parseLaunchRequest(input: unknown): LaunchRequest {
  const parsed = LaunchRequest.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || 'request';
  const hint =
    issue.code === 'unrecognized_keys'
      ? `Known fields: ${Object.keys(LaunchRequest.shape).join(', ')}.`
      : 'See the launch tool description for the accepted values.';
  throw new SmlError('INVALID_ARGUMENT', `Invalid ${field}: ${issue.message}.`, { hint, details: { field } });
}

function describeRuns(spec: LaunchSpec): string {
  if (spec.chain.index === 0)
    return `starts when scheduled, runs up to ${formatDuration(spec.slurm.timeLimitSeconds)}`;
  return `starts ${formatDuration(spec.chain.offsetSeconds)} after the chain's first job starts, runs up to ${formatDuration(spec.slurm.timeLimitSeconds)}`;
}

/** Settings of a launch recorded before they were kept with their origin: the values alone. */
function slurmSettingsOfSpec(spec: Record<string, unknown>): SlurmSettings {
  const slurm = (spec.slurm ?? {}) as Partial<Record<'partition' | 'account' | 'reservation', string>>;
  const choice = (value: string | undefined) => ({
    value: value ?? null,
    source: value === undefined ? ('unset' as const) : ('request' as const),
    from: 'recorded before origins were kept',
  });
  return {
    partition: choice(slurm.partition),
    account: choice(slurm.account),
    reservation: choice(slurm.reservation),
  };
}
