import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { assetPath } from '../assets.js';
import { formatDuration } from '../domain/duration.js';
import { newLaunchId } from '../domain/job-name.js';
import { LaunchSpec, launchLayoutOf } from '../domain/launch-spec.js';
import { isNodeSharing, type SystemProfile } from '../domain/system.js';
import { SmlError, toSmlError } from '../errors.js';
import type { JobServiceApi } from '../jobs/api.js';
import { type JobStore, writeJsonAtomic } from '../jobs/store.js';
import { ENDED_STATES, type JobInfo, type Scheduler } from '../scheduler/scheduler.js';
import { renderChart } from './chart.js';
import { type LoadPlan, LoadShape, planLoad, planSeconds } from './plan.js';
import { recommend, SizingTarget, type TestedLayout } from './recommend.js';
import { emptyResults, findSaturation, foldResults, type ResultsState } from './results.js';
import type { LoadTestPhase, LoadTestView } from './view.js';

/**
 * Load tests: plan the steps, stage the generator and its config in the run's directory on the
 * cluster, submit it as its own one-node SLURM job next to the deployment, record the run locally,
 * and read its results file back by byte offset (through the Scheduler, like logs) as it grows.
 */

export const LOAD_TAG_PREFIX = 'sml-mcp-loadtest:';
const LOAD_RESULTS_FILE = 'results.jsonl';
const LOAD_CONFIG_FILE = 'config.json';
const LOAD_GENERATOR_FILE = 'load_generator.py';

/** What the load job's script is rendered from. */
export interface LoadJobSpec {
  runId: string;
  jobName: string;
  /** `--comment`; finds the job again after an ambiguous submit. */
  tag: string;
  /** Absolute directory of the run on the cluster (config.json, load_generator.py, results.jsonl). */
  runDir: string;
  partition?: string;
  account?: string;
  reservation?: string;
  /** SLURM time limit, `HH:MM:SS`. */
  timeLimit: string;
  /** Start only once this job has started (a deployment launched with the test). */
  afterJobId?: string;
  cpus: number;
  /** File names inside runDir. */
  files: { generator: string; config: string; results: string };
}
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** How long the load job waits for the deployment to serve once it runs. */
const READY_TIMEOUT_S = 1800;
const LOAD_JOB_CPUS = 2;
const RUN_ID = /^lt-[a-z0-9]{10}$/;

export const LoadTestRequest = LoadShape.extend({
  job_id: z.string().regex(/^\d+$/),
  target: SizingTarget.optional(),
});
export type LoadTestRequest = z.infer<typeof LoadTestRequest>;

export interface LoadTestRecord {
  run_id: string;
  created_at: string;
  system: string;
  run_dir: string;
  scenario: string;
  model: string;
  plan: LoadPlan;
  /** The deployment under test. */
  job_id: string;
  layout: TestedLayout;
  load_job_id: string | null;
  state: 'submitting' | 'submitted' | 'failed';
  error?: string;
  goal?: SizingTarget;
}

export interface LoadTestProgress {
  elapsed_s: number;
  message: string;
}

export interface LoadTestDeps {
  /** Local state directory (load-test records go to `<dir>/loadtests/`). */
  stateDir: string;
  jobs: JobServiceApi;
  store: JobStore;
  resolveSystem(name?: string): SystemProfile;
  schedulerFor(profile: SystemProfile): Scheduler;
  /** Launch defaults from the configuration (partition, account, reservation). */
  defaults: { partition?: string; account?: string; reservation?: string };
  pollIntervalMs?: number;
  /** The load job's batch script (sbatch/loadtest.ts). */
  renderLoadJob(spec: LoadJobSpec): string;
}

export class LoadTestService {
  private readonly results = new Map<string, ResultsState>();
  private readonly charted = new Set<string>();
  private readonly dir: string;

  constructor(private readonly deps: LoadTestDeps) {
    this.dir = join(deps.stateDir, 'loadtests');
  }

  /** Plan, stage and submit a load test; returns once the load job is queued. */
  async start(input: unknown, options: { signal?: AbortSignal } = {}): Promise<LoadTestView> {
    const request = parseRequest(input);
    // A sweep past the target's latency would only measure worse steps: stop there.
    const plan = planLoad({
      ...request,
      stop_p99_ttft_s: request.stop_p99_ttft_s ?? request.target?.p99_ttft_s,
    });
    const runId = `lt-${newLaunchId()}`;
    const callOptions = { signal: options.signal };
    const jobId = request.job_id;
    const launch = (await this.deps.store.findByJobId(jobId))?.launch;
    if (!launch) {
      throw new SmlError(
        'NOT_FOUND',
        `Job ${jobId} has no local launch record, so its endpoints are unknown here.`,
        {
          hint: 'Load-test a job launched from this machine (status lists them).',
        },
      );
    }
    const [status] = await this.deps.jobs.status([jobId], callOptions);
    if (status?.phase === 'ended') {
      throw new SmlError(
        'CONFLICT',
        `Job ${jobId} has ended (${status.end_reason ?? 'unknown'}); there is nothing to load-test.`,
        {
          hint: 'Launch the model again, then load-test the new job (a queued job is fine).',
        },
      );
    }
    // A job not started yet: the load job starts after it, then waits until it serves.
    const waitForStart = status?.phase === 'queued';

    const system = this.deps.resolveSystem(launch.system);
    const scheduler = this.deps.schedulerFor(system);
    const workingDir = launch.working_dir;
    const runDir = `${workingDir}/loadtests/${runId}`;
    const spec = LaunchSpec.parse(launch.spec);
    const layout = launchLayoutOf(spec, jobId);
    const model = launch.served_model_name;
    const config = {
      target: {
        health_report: `${workingDir}/logs/${jobId}/replica_health.json`,
        replicas: layout.replicas,
        replica_ports: layout.replicaPorts,
        router_port: layout.routerPort,
      },
      model,
      steps: plan.steps,
      prompt_tokens: plan.prompt_tokens,
      max_tokens: plan.max_tokens,
      ignore_eos: plan.ignore_eos,
      request_timeout_s: plan.request_timeout_s,
      ready_timeout_s: READY_TIMEOUT_S,
      stop: plan.stop,
      prompt_seed: 1,
    };
    const record: LoadTestRecord = {
      run_id: runId,
      created_at: new Date().toISOString(),
      system: system.name,
      run_dir: runDir,
      scenario: plan.scenario,
      model,
      plan,
      job_id: jobId,
      layout: {
        replicas: spec.topology.replicas,
        nodes_per_replica: spec.topology.nodesPerReplica,
        gpus_per_replica: spec.topology.gpusPerReplica,
        gpus_per_node: spec.topology.gpusPerNode,
        shares_nodes: isNodeSharing(system),
      },
      load_job_id: null,
      state: 'submitting',
      goal: request.target,
    };
    await this.save(record);
    try {
      await scheduler.mkdir(runDir, callOptions);
      await scheduler.writeFile(`${runDir}/${LOAD_GENERATOR_FILE}`, readGenerator(), {
        ...callOptions,
        mode: 0o644,
      });
      await scheduler.writeFile(`${runDir}/${LOAD_CONFIG_FILE}`, `${JSON.stringify(config, null, 2)}\n`, {
        ...callOptions,
        mode: 0o600,
      });
      const script = this.deps.renderLoadJob({
        runId,
        jobName: `sml_loadtest_${plan.scenario}_${runId.slice(3)}`,
        tag: `${LOAD_TAG_PREFIX}${runId}`,
        runDir,
        partition: spec.slurm.partition ?? this.deps.defaults.partition ?? system.partition,
        account: spec.slurm.account ?? this.deps.defaults.account,
        reservation: spec.slurm.reservation ?? this.deps.defaults.reservation,
        timeLimit: formatDuration(planSeconds(plan) + READY_TIMEOUT_S + 600),
        afterJobId: waitForStart ? jobId : undefined,
        cpus: LOAD_JOB_CPUS,
        files: { generator: LOAD_GENERATOR_FILE, config: LOAD_CONFIG_FILE, results: LOAD_RESULTS_FILE },
      });
      const { jobId: loadJobId } = await scheduler.submit(
        { script, scriptPath: `${runDir}/loadtest.sh`, workingDir, tag: `${LOAD_TAG_PREFIX}${runId}` },
        callOptions,
      );
      record.load_job_id = loadJobId;
      record.state = 'submitted';
    } catch (error) {
      record.state = 'failed';
      record.error = toSmlError(error).message;
      await this.save(record);
      throw error;
    }
    await this.save(record);
    return this.viewOf(record, emptyResults(), undefined, record.goal);
  }

  /** The run as far as its results file goes now. */
  async get(
    runId: string,
    options: { signal?: AbortSignal; goal?: SizingTarget } = {},
  ): Promise<LoadTestView> {
    const record = await this.load(runId);
    const goal = options.goal ?? record.goal;
    if (!record.load_job_id) return this.viewOf(record, emptyResults(), undefined, goal);
    const scheduler = this.deps.schedulerFor(this.deps.resolveSystem(record.system));
    const infos = await scheduler.statuses([record.load_job_id], { signal: options.signal });
    const results = await this.readResults(record, scheduler, options.signal);
    let view = this.viewOf(record, results, infos.get(record.load_job_id), goal);
    if (view.phase === 'queued' || view.phase === 'waiting') {
      // A deployment that ended before it served leaves the load job waiting for nothing.
      const [target] = await this.deps.jobs.status([record.job_id], { signal: options.signal });
      if (target?.phase === 'ended') {
        await scheduler.cancel(record.load_job_id, { signal: options.signal });
        record.state = 'failed';
        record.error = `Job ${record.job_id} ended (${target.end_reason ?? 'unknown'}) before it served; the load job ${record.load_job_id} was cancelled.`;
        await this.save(record);
        view = this.viewOf(record, results, undefined, goal);
      }
    }
    if (view.phase === 'completed' && view.steps.length > 0) {
      view.run.chart_path = join(this.dir, `${record.run_id}.svg`);
      if (!this.charted.has(record.run_id)) {
        await writeFile(view.run.chart_path, renderChart(view.steps, chartTitle(view)), { mode: 0o644 });
        this.charted.add(record.run_id);
      }
    }
    return view;
  }

  /** Poll until the run ends (or the timeout passes), reporting progress on the way. */
  async wait(
    runId: string,
    options: {
      timeoutS: number;
      signal?: AbortSignal;
      goal?: SizingTarget;
      onProgress?: (p: LoadTestProgress) => void | Promise<void>;
    },
  ): Promise<{ view: LoadTestView; timed_out: boolean }> {
    const started = Date.now();
    const deadline = started + options.timeoutS * 1000;
    for (;;) {
      const view = await this.get(runId, { signal: options.signal, goal: options.goal });
      await options.onProgress?.({
        elapsed_s: Math.round((Date.now() - started) / 1000),
        message: describeProgress(view),
      });
      if (isFinished(view.phase)) return { view, timed_out: false };
      if (Date.now() >= deadline) return { view, timed_out: true };
      await sleep(
        Math.min(this.deps.pollIntervalMs ?? 2000, Math.max(0, deadline - Date.now())),
        options.signal,
      );
    }
  }

  /** Run ids of the load tests of a job (newest first); all runs when jobId is undefined. */
  async list(jobId?: string): Promise<LoadTestRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records = await Promise.all(
      names.filter((n) => n.endsWith('.json')).map((n) => this.load(n.slice(0, -5)).catch(() => undefined)),
    );
    return records
      .filter((r): r is LoadTestRecord => r !== undefined && (jobId === undefined || r.job_id === jobId))
      .sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  /** The SVG chart of a run's steps. */
  async chart(runId: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const view = await this.get(runId, options);
    return renderChart(view.steps, chartTitle(view));
  }

  // ——— internals ———

  private async readResults(
    record: LoadTestRecord,
    scheduler: Scheduler,
    signal?: AbortSignal,
  ): Promise<ResultsState> {
    let state = this.results.get(record.run_id) ?? emptyResults();
    if (state.ended) return state;
    const path = `${record.run_dir}/${LOAD_RESULTS_FILE}`;
    const size = await scheduler.fileSize(path, { signal });
    while (size !== undefined && state.offset < size) {
      const chunk = await scheduler.readFile(path, state.offset, READ_CHUNK_BYTES, { signal });
      const next = foldResults(state, chunk.data);
      if (next.offset === state.offset) break; // a partial line: the rest comes with the next read
      state = next;
    }
    this.results.set(record.run_id, state);
    return state;
  }

  private viewOf(
    record: LoadTestRecord,
    results: ResultsState,
    info: JobInfo | undefined,
    goal: SizingTarget | undefined,
  ): LoadTestView {
    const phase = phaseOf(record, results, info);
    const base = `sml://jobs/${record.job_id}/loadtests/${record.run_id}`;
    let error = record.error ?? results.ended?.error ?? null;
    if (!error && phase === 'failed') {
      error = `The load job ended (${info?.rawState ?? 'unknown'}) before the generator finished; read ${record.run_dir}/slurm-${record.load_job_id}.out.`;
    }
    const isDone = phase === 'completed';
    return {
      run_id: record.run_id,
      phase,
      run: {
        job_id: record.job_id,
        resource_uri: base,
        scenario: record.scenario,
        model: record.model,
        system: record.system,
        load_job_id: record.load_job_id,
        endpoint: results.url,
        stopped_early: results.stopped_early,
        results_path: `${record.run_dir}/${LOAD_RESULTS_FILE}`,
        chart_uri: `${base}/chart.svg`,
        chart_path: null,
      },
      progress:
        results.progress && !results.ended
          ? { ...results.progress, steps_total: record.plan.steps.length }
          : null,
      steps: results.steps,
      saturation: findSaturation(results.steps),
      recommend: goal && isDone ? recommend(goal, results.steps, record.layout) : null,
      engine_metrics: { before: results.engines_before, after: results.engines_after },
      error,
    };
  }

  private async save(record: LoadTestRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeJsonAtomic(join(this.dir, `${record.run_id}.json`), record);
  }

  private async load(runId: string): Promise<LoadTestRecord> {
    if (!RUN_ID.test(runId)) {
      throw new SmlError('INVALID_ARGUMENT', `"${runId}" is not a load-test id.`, {
        hint: 'Load-test ids look like lt-abc123xyz0; the loadtest tool returns them.',
      });
    }
    try {
      return JSON.parse(await readFile(join(this.dir, `${runId}.json`), 'utf8')) as LoadTestRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new SmlError('NOT_FOUND', `No load test ${runId} is recorded here.`, {
          hint: 'Load tests are recorded on the machine that started them; read sml://jobs/{id}/loadtests for a job’s runs.',
        });
      }
      throw error;
    }
  }
}

function chartTitle(view: LoadTestView): string {
  return `${view.run.model}: ${view.run.scenario} (${view.run_id})`;
}

export function isFinished(phase: LoadTestPhase): boolean {
  return phase === 'completed' || phase === 'failed' || phase === 'cancelled';
}

function phaseOf(record: LoadTestRecord, results: ResultsState, info: JobInfo | undefined): LoadTestPhase {
  if (record.state === 'failed') return 'failed';
  if (results.ended) return results.ended.ok ? 'completed' : 'failed';
  if (info && ENDED_STATES.has(info.state)) return info.state === 'CANCELLED' ? 'cancelled' : 'failed';
  if (!info || info.state === 'PENDING') return 'queued';
  return results.started ? 'running' : 'waiting';
}

export function describeProgress(view: LoadTestView): string {
  switch (view.phase) {
    case 'queued':
      return `load test ${view.run_id}: load job ${view.run.load_job_id ?? '(not submitted)'} queued`;
    case 'waiting':
      return `load test ${view.run_id}: waiting for job ${view.run.job_id} to serve`;
    case 'running': {
      const p = view.progress;
      return p
        ? `load test ${view.run_id}: step ${p.step + 1}/${p.steps_total}, ${Math.round(p.elapsed_s)}/${p.duration_s} s, ${p.completed} requests, ${p.errors} errors`
        : `load test ${view.run_id}: running, ${view.steps.length} step(s) done`;
    }
    default:
      return `load test ${view.run_id}: ${view.phase}${view.error ? ` (${view.error})` : ''}`;
  }
}

function parseRequest(input: unknown): LoadTestRequest {
  const parsed = LoadTestRequest.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new SmlError('INVALID_ARGUMENT', `Invalid ${issue.path.join('.') || 'request'}: ${issue.message}.`, {
    hint: 'See the loadtest tool description for the accepted values.',
  });
}

let generatorSource: string | undefined;
function readGenerator(): string {
  generatorSource ??= readFileSync(assetPath(LOAD_GENERATOR_FILE), 'utf8');
  return generatorSource;
}
