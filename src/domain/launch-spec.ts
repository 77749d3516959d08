import { z } from 'zod';
import type { CatalogEntry } from '../catalog/catalog.js';
import type { EnvironmentFile } from '../catalog/environment.js';
import { SmlError } from '../errors.js';
import { type ChainJobPlan, planChain } from './chain.js';
import { formatDuration, parseDuration } from './duration.js';
import { Framework } from './framework.js';
import {
  assertNoManagedOptions,
  assertRunTimeVariablesOnly,
  hasOption,
  takeSmlEngineOptions,
  toArgv,
} from './framework-args.js';
import { makeJobName, makeJobTag } from './job-name.js';
import {
  computeTopology,
  ENGINE_BASE_PORT,
  logFilesOf,
  placeReplicas,
  ROUTER_PORT,
  sharedPortOffset,
} from './layout.js';
import { resolveServedModelName } from './served-name.js';
import {
  type ClusterAccount,
  type ConfiguredDefaults,
  resolveSlurmSettings,
  type SlurmSettings,
} from './slurm-settings.js';
import { ContainerRuntime, isNodeSharing, type SystemProfile } from './system.js';

/**
 * The launch model. `LaunchRequest` is what a user or an agent asks for (every knob of SML's
 * `sml advanced`); `buildLaunchSpecs` resolves it against the system, the catalog entry and the
 * environment file into one validated `LaunchSpec` per job of the chain, which `sbatch/render`
 * turns into scripts. Pure: the caller reads files and asks the cluster who the user is.
 */

const SLURM_NAME = /^[A-Za-z0-9._-]+$/;
const slurmName = (what: string) =>
  z
    .string()
    .regex(SLURM_NAME, `${what} may contain only letters, digits, dot, dash and underscore`)
    .optional();

const ArgvOrString = z.union([z.string(), z.array(z.string())]);

const HF_REPO_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `org/name` as on the Hugging Face Hub (no absolute path, no `..`). */
export function isHuggingFaceRepoId(value: string): boolean {
  return HF_REPO_ID.test(value) && !value.includes('..');
}

/** Where a model can be: an absolute path, a path under a run-time variable, or a Hub repo id. */
function isModelLocation(value: string): boolean {
  return value.startsWith('/') || /^\$\{?[A-Za-z_]/.test(value) || isHuggingFaceRepoId(value);
}

export const LaunchRequest = z.strictObject({
  model: z.string().min(1).optional().describe('Catalog id (list_models), or give model_path'),
  model_path: z
    .string()
    .refine(isModelLocation, {
      error: (issue) =>
        `model_path '${String(issue.input)}' is neither an absolute path on the cluster, a path starting with a variable ($SCRATCH/…), nor a Hugging Face repo id (org/name)`,
    })
    .optional()
    .describe(
      'Cluster folder of a Hugging Face model ($SCRATCH/… ok) or a Hub repo id to download; then framework too',
    ),
  hf_home: z
    .string()
    .min(1)
    .optional()
    .describe('Hub download cache ($VAR ok). Default: $HF_HOME or $SCRATCH/huggingface'),
  served_model_name: z
    .string()
    .min(1)
    .optional()
    .describe('"model" of API requests (gets a <user>/ prefix). Default: the catalog or Hub repo id'),
  framework: Framework.optional().describe("Default: the catalog's"),
  system: z.string().min(1).optional().describe('See list_systems. Default: the configured one'),
  partition: slurmName('partition').describe('Default: SML_PARTITION, config file, system'),
  account: slurmName('account').describe('Charged. Default: SML_ACCOUNT, config file, your default'),
  reservation: slurmName('reservation').describe('Default: SML_RESERVATION, config file, none'),
  replicas: z.number().int().min(1).max(256).default(1).describe('Copies serving in parallel. Default 1'),
  nodes_per_replica: z.number().int().min(1).max(64).optional().describe("Default: the catalog's, else 1"),
  gpus_per_replica: z
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe("Below a node's GPUs: replicas share nodes"),
  time: z
    .string()
    .optional()
    .describe(
      'HH:MM:SS, D-HH:MM:SS or minutes; past max_job_time needs consecutive. Default 03:00:00, 02:00:00 off-catalog',
    ),
  consecutive: z.boolean().default(false).describe('Chain jobs past the per-job time cap'),
  max_job_time: z.string().optional().describe("Each chained job's time. Default: the cap"),
  handover_time: z.string().optional().describe('Overlap of chained jobs. Default 03:00:00 (as SML)'),
  framework_args: ArgvOrString.optional().describe(
    "Engine args after the catalog's; $VARS expand on the node, $(…) is refused; --model names the model",
  ),
  pre_launch_cmds: z.string().optional().describe('bash run before the engine on each node'),
  environment: z
    .string()
    .min(1)
    .optional()
    .describe('Container EDF TOML: sglang.toml, vllm.toml or a cluster path'),
  router: z
    .enum(['opentela', 'sglang'])
    .default('opentela')
    .describe('opentela (default), or sglang: a router on port 30000 (2+ replicas)'),
  router_args: ArgvOrString.optional().describe('sglang router args'),
  disable_opentela: z.boolean().default(false).describe('Off OpenTela: reachable in the cluster only'),
  opentela_bootstrap_addr: z
    .string()
    .regex(/^\/[A-Za-z0-9._/:-]+$/, 'a libp2p multiaddr such as /ip4/1.2.3.4/tcp/43905/p2p/Qm...')
    .optional()
    .describe('OpenTela peer multiaddr'),
  dev: z.boolean().default(false).describe('OpenTela dev mesh'),
  disable_dcgm_exporter: z.boolean().default(false).describe('No DCGM GPU-metrics exporter'),
  disable_metrics: z.boolean().default(false).describe('No metrics agent (vmagent)'),
  telemetry_endpoint: z
    .string()
    .url()
    .optional()
    .describe("Where each job posts SML's launch record (no secrets). Default: the system's"),
  disable_telemetry: z.boolean().default(false).describe('Post no launch record (or SML_TELEMETRY=0)'),
  health_check_interval_s: z.number().int().min(5).max(600).default(30).describe('Default 30'),
  replica_restarts: z
    .number()
    .int()
    .min(0)
    .max(100)
    .default(3)
    .describe('Restarts of a replica whose engine exits. Default 3'),
});
export type LaunchRequest = z.infer<typeof LaunchRequest>;
export type LaunchRequestInput = z.input<typeof LaunchRequest>;

const Topology$ = z.object({
  replicas: z.number().int().positive(),
  nodesPerReplica: z.number().int().positive(),
  gpusPerReplica: z.number().int().positive(),
  gpusPerNode: z.number().int().positive(),
  replicasPerNode: z.number().int().positive(),
  isPacked: z.boolean(),
  totalNodes: z.number().int().positive(),
});

export const LaunchSpec = z.object({
  launchId: z.string(),
  jobName: z.string(),
  /** `--comment` of the job: `sml-mcp:<launch id>:<index>`. */
  jobTag: z.string(),
  user: z.string(),
  systemName: z.string(),
  containerRuntime: ContainerRuntime,
  gpuVendor: z.enum(['nvidia', 'amd']),
  slurm: z.object({
    partition: z.string().optional(),
    account: z.string().optional(),
    reservation: z.string().optional(),
    timeLimit: z.string(),
    timeLimitSeconds: z.number().int().positive(),
    /** GPUs to ask for on a node shared with other jobs; undefined = whole nodes (--exclusive). */
    sharedNodeGpus: z.number().int().positive().optional(),
  }),
  chain: z.object({
    index: z.number().int().nonnegative(),
    length: z.number().int().positive(),
    offsetSeconds: z.number().nonnegative(),
    totalSeconds: z.number().positive(),
    dependencyDelayMinutes: z.number().int().positive().optional(),
    /** Set with `bindPreviousJob` once the predecessor is submitted (job index > 0 only). */
    previousJobId: z.string().optional(),
  }),
  framework: Framework,
  model: z.object({ id: z.string().optional(), path: z.string() }),
  /** Set when the engine downloads the model from the Hugging Face Hub (model path is a repo id). */
  huggingFace: z
    .object({
      repoId: z.string(),
      /** HF_HOME as a bash word value (may use $VAR); undefined = the default chain. */
      home: z.string().optional(),
    })
    .optional(),
  servedModelName: z.string(),
  servedModelAliases: z.array(z.string()),
  /** Engine arguments after the entry point and `--port`: --model, --served-model-name, --host, then the user's. */
  engineArgs: z.array(z.string()),
  /** Raw shell run before the engine on every node (user supplied, by design). */
  preLaunchCommands: z.string(),
  topology: Topology$,
  environment: z.object({
    clusterPath: z.string(),
    image: z.string().optional(),
    mounts: z.array(z.string()),
    workdir: z.string().optional(),
    env: z.record(z.string(), z.string()),
  }),
  router: z.object({ isEnabled: z.boolean(), port: z.number().int(), args: z.array(z.string()) }),
  opentela: z.object({
    isEnabled: z.boolean(),
    bootstrapAddr: z.string().optional(),
    channel: z.enum(['prod', 'dev']),
    binDir: z.string().optional(),
  }),
  metrics: z.object({
    isEnabled: z.boolean(),
    isDcgmEnabled: z.boolean(),
    shareDir: z.string().optional(),
    remoteWriteUrl: z.string().optional(),
  }),
  telemetry: z.object({ endpoint: z.string().optional() }),
  healthCheck: z.object({
    intervalSeconds: z.number().int().positive(),
    startupIntervalSeconds: z.number().int().positive(),
    timeoutSeconds: z.number().int().positive(),
    /** Restarts in place per replica whose engine exits (older records lack it: the default). */
    replicaRestarts: z.number().int().min(0).default(3),
  }),
  version: z.string(),
});
export type LaunchSpec = z.infer<typeof LaunchSpec>;

export interface ResolvedEnvironment {
  /** The environment file's path as the job sees it on the cluster (edf: `--environment=`). */
  clusterPath: string;
  file: EnvironmentFile;
  /** Why a dry run could not read the file (it is on the cluster, which was not reachable); `file` is then empty. */
  unreadBecause?: string;
}

export interface LaunchContext {
  system: SystemProfile;
  /** The cluster user submitting (namespaces the served name). */
  user: string;
  /** Launch defaults of the configuration (flags, SML_* environment, config file). */
  configured?: ConfiguredDefaults;
  /** The user's account as the cluster reports it; undefined when the cluster was not asked (dry run). */
  clusterAccount?: ClusterAccount;
  environment: ResolvedEnvironment;
  /** The catalog entry of `request.model` (see catalogEntryFor). */
  catalogEntry?: CatalogEntry;
  /** Identifies the launch in job names and tags (see newLaunchId). */
  launchId: string;
  /** sml-mcp version, reported in telemetry. */
  version?: string;
}

export interface LaunchPlan {
  specs: LaunchSpec[];
  warnings: string[];
  /** Partition, account and reservation of every job, with where each came from. */
  slurmSettings: SlurmSettings;
  /** Whether the jobs post the launch record, where, and how to opt out. */
  telemetry: TelemetryView;
}

export interface TelemetryView {
  endpoint: string | null;
  note: string;
}

const DEFAULT_HANDOVER_SECONDS = 3 * 3600;

/**
 * SML's handover default: 03:00:00 (it must be shorter than max_job_time). Only when a chain is
 * asked for with a per-job cap of 3 h or less, a quarter of the cap is used instead, said so.
 */
function defaultHandoverSeconds(maxJobSeconds: number, isConsecutive: boolean, warnings: string[]): number {
  if (DEFAULT_HANDOVER_SECONDS < maxJobSeconds || !isConsecutive) return DEFAULT_HANDOVER_SECONDS;
  const quarter = Math.max(60, Math.floor(maxJobSeconds / 4 / 60) * 60);
  warnings.push(
    `handover_time defaults to 03:00:00, which does not fit max_job_time ${formatDuration(maxJobSeconds)}; using ${formatDuration(quarter)} (a quarter). Set handover_time to choose.`,
  );
  return quarter;
}

/** The catalog entry a request names, or undefined for a launch by model path only. */
export function catalogEntryFor(
  request: LaunchRequest,
  catalog: { find(model: string, framework?: Framework): CatalogEntry },
): CatalogEntry | undefined {
  return request.model === undefined ? undefined : catalog.find(request.model, request.framework);
}

/** The framework of a launch: the request's, else the catalog entry's. */
export function frameworkFor(request: LaunchRequest, entry: CatalogEntry | undefined): Framework {
  const framework = request.framework ?? entry?.framework;
  if (!framework) {
    throw new SmlError('INVALID_ARGUMENT', 'No framework: a launch by model_path needs one.', {
      hint: "Set framework to 'sglang' or 'vllm'.",
    });
  }
  return framework;
}

/** Which environment file the launch uses: a shipped name or a cluster path (the caller reads it). */
export function environmentReferenceFor(
  request: LaunchRequest,
  entry: CatalogEntry | undefined,
  system: SystemProfile,
): string {
  return (
    request.environment ?? entry?.environment ?? system.defaultEnvironments[frameworkFor(request, entry)]
  );
}

function invalid(message: string, hint: string): SmlError {
  return new SmlError('INVALID_ARGUMENT', message, { hint });
}

/**
 * Resolve and validate a launch into one spec per job of its chain. Job i > 0 still needs its
 * predecessor's id (`bindPreviousJob`) before it can be rendered.
 */
export function buildLaunchSpecs(request: LaunchRequest, context: LaunchContext): LaunchPlan {
  const { system, catalogEntry: entry } = context;
  const warnings: string[] = [];
  if (
    request.model === undefined &&
    request.model_path === undefined &&
    toArgv(request.framework_args).length === 0
  ) {
    throw invalid(
      'Nothing to launch: neither model nor model_path is given.',
      'Give a catalog model (list_models), or a model_path (cluster folder or Hugging Face repo id) with framework.',
    );
  }
  if (request.model !== undefined && entry === undefined) {
    throw new SmlError('INTERNAL', `The catalog entry of ${request.model} was not resolved before planning.`);
  }
  const framework = frameworkFor(request, entry);
  if (entry && entry.framework !== framework) {
    throw invalid(
      `Catalog entry ${entry.model} is for ${entry.framework}, not ${framework}.`,
      `Use framework ${entry.framework}.`,
    );
  }

  // Topology
  const nodesPerReplica = request.nodes_per_replica ?? entry?.nodes_per_replica ?? 1;
  const topology = computeTopology({
    replicas: request.replicas,
    nodesPerReplica,
    gpusPerReplica: request.gpus_per_replica,
    gpusPerNode: system.gpu.perNode,
  });

  // Router
  const hasRouter = request.router === 'sglang';
  if (hasRouter && framework === 'vllm') {
    throw invalid(
      "router 'sglang' needs framework sglang: vLLM images do not ship sglang_router.",
      "Use router 'opentela' (the default) for vLLM, or serve the model with sglang.",
    );
  }
  if (hasRouter && request.replicas < 2) {
    throw invalid(
      "router 'sglang' balances several replicas, but replicas is 1.",
      "Set replicas to 2 or more, or use router 'opentela' (the default).",
    );
  }
  const routerArgs = toArgv(request.router_args, 'router_args');
  if (routerArgs.length > 0 && !hasRouter) {
    throw invalid(
      "router_args are given but router is not 'sglang'.",
      "Set router 'sglang' or drop router_args.",
    );
  }
  for (const option of ['--port', '--host', '--worker-urls']) {
    if (hasOption(routerArgs, option)) {
      throw invalid(
        `router_args contains ${option}: sml-mcp sets it (router on port ${ROUTER_PORT}).`,
        `Remove ${option} from router_args.`,
      );
    }
  }

  // Model, served name, engine args (SML's meanings of --model/--model-path/--port taken out first)
  const requestArgs = toArgv(request.framework_args);
  assertRunTimeVariablesOnly(requestArgs, 'framework_args');
  const sml = takeSmlEngineOptions(requestArgs, framework, topology.isPacked ? undefined : ENGINE_BASE_PORT);
  warnings.push(...sml.warnings);
  if (sml.model !== undefined && !isModelLocation(sml.model)) {
    throw invalid(
      `framework_args names the model '${sml.model}', which is neither an absolute path, a path starting with a variable, nor a Hugging Face repo id.`,
      'Give an absolute path on the cluster or a repo id such as org/name.',
    );
  }
  if (sml.model !== undefined && request.model_path !== undefined && sml.model !== request.model_path) {
    throw invalid(
      `model_path is '${request.model_path}' but framework_args names the model '${sml.model}'.`,
      'Name the model once: drop --model/--model-path from framework_args, or drop model_path.',
    );
  }
  const givenModelPath = request.model_path ?? sml.model;
  if (request.model === undefined && givenModelPath === undefined) {
    throw invalid(
      'Nothing to launch: neither model, model_path nor a --model in framework_args is given.',
      'Give a catalog model (list_models), or a model_path (cluster folder or Hugging Face repo id) with framework.',
    );
  }
  const userArgs = [...toArgv(entry?.framework_args, 'catalog framework_args'), ...sml.argv];
  assertNoManagedOptions(userArgs, nodesPerReplica);
  const modelPath = givenModelPath ?? entry?.model_path ?? `${system.modelRegistry}/${entry!.model}`;
  const isHubDownload = isHuggingFaceRepoId(modelPath);
  assertRunTimeVariablesOnly([modelPath], 'model_path');
  if (request.hf_home !== undefined) assertRunTimeVariablesOnly([request.hf_home], 'hf_home');
  const served = resolveServedModelName({
    explicit: request.served_model_name,
    argv: userArgs,
    fallback: entry?.model ?? (isHubDownload ? modelPath : undefined),
    user: context.user,
    framework,
  });
  const engineArgs = ['--model', modelPath, ...served.argv];
  if (!hasOption(engineArgs, '--host')) engineArgs.splice(2, 0, '--host', '0.0.0.0');
  const preLaunchCommands = [entry?.pre_launch_cmds ?? '', request.pre_launch_cmds ?? '']
    .filter((c) => c.trim() !== '')
    .join('\n');

  // Time and chain (SML: 03:00:00 for a catalog launch, 02:00:00 for an advanced one)
  const time =
    request.time ?? (request.model !== undefined && givenModelPath === undefined ? '03:00:00' : '02:00:00');
  const totalSeconds = parseDuration(time, 'time');
  const systemCap = parseDuration(system.maxJobTime, 'max_job_time');
  const maxJobSeconds = request.max_job_time
    ? parseDuration(request.max_job_time, 'max_job_time')
    : systemCap;
  if (maxJobSeconds > systemCap) {
    warnings.push(
      `max_job_time ${formatDuration(maxJobSeconds)} is above ${system.name}'s per-job cap ${formatDuration(systemCap)}; SLURM may refuse the jobs.`,
    );
  }
  const handoverSeconds = request.handover_time
    ? parseDuration(request.handover_time, 'handover_time')
    : defaultHandoverSeconds(maxJobSeconds, request.consecutive, warnings);
  const chain = planChain({
    totalSeconds,
    maxJobSeconds,
    handoverSeconds,
    isConsecutive: request.consecutive,
  });
  warnings.push(...chain.warnings);

  // OpenTela
  const isOpentelaEnabled = !request.disable_opentela;
  if (isOpentelaEnabled && !system.opentela) {
    throw new SmlError('NOT_CONFIGURED', `System ${system.name} has no OpenTela settings.`, {
      hint: 'Set disable_opentela: true (the model stays reachable inside the cluster), or add opentela to the system profile.',
    });
  }
  if (request.dev && request.opentela_bootstrap_addr) {
    warnings.push('dev ignored because opentela_bootstrap_addr was given.');
  }
  const channel = request.dev && !request.opentela_bootstrap_addr ? 'dev' : 'prod';
  const bootstrapAddr = isOpentelaEnabled
    ? (request.opentela_bootstrap_addr ??
      (channel === 'dev' ? system.opentela!.devBootstrap : system.opentela!.prodBootstrap))
    : undefined;
  if ((request.dev || request.opentela_bootstrap_addr) && !isOpentelaEnabled) {
    warnings.push('dev / opentela_bootstrap_addr ignored because disable_opentela is set.');
  }

  // Metrics and telemetry
  const isMetricsEnabled = !request.disable_metrics && system.metrics !== undefined;
  const telemetryOptOut = request.disable_telemetry
    ? 'disable_telemetry'
    : context.configured?.telemetryOptOut;
  const telemetryEndpoint = telemetryOptOut
    ? undefined
    : (request.telemetry_endpoint ?? system.telemetryEndpoint);

  const env = context.environment.file;
  // The CSCS container engine reads the file itself on the cluster; only the other runtimes need its image here.
  const isReadOnCluster =
    context.environment.unreadBecause !== undefined && system.containerRuntime === 'edf';
  if (system.containerRuntime !== 'none' && !env.image && !isReadOnCluster) {
    throw invalid(
      `Environment ${context.environment.clusterPath} names no image, but ${system.name} runs replicas in containers (${system.containerRuntime}).`,
      'Add image = "..." to the environment file, or choose another environment.',
    );
  }
  // edf applies [env] itself; other runtimes export it from the rank scripts, expanding $NAME only.
  if (system.containerRuntime !== 'edf') {
    assertRunTimeVariablesOnly(Object.values(env.env), `[env] of ${context.environment.clusterPath}`);
  }
  if (system.containerRuntime === 'pyxis') {
    for (const mount of env.mounts) {
      if (mount.includes(',')) {
        throw invalid(
          `Mount '${mount}' contains a comma, which pyxis cannot pass.`,
          'Rename the path or mount its parent directory.',
        );
      }
    }
  }
  const resolved = resolveSlurmSettings({
    request,
    configured: context.configured,
    system,
    clusterAccount: context.clusterAccount,
  });
  warnings.push(...resolved.warnings);
  const { partition, account, reservation } = resolved.settings;
  // A deployment smaller than one node asks for its GPUs, where the system lets jobs share nodes.
  const gpusUsed = Math.min(topology.replicas, topology.replicasPerNode) * topology.gpusPerReplica;
  const sharedNodeGpus =
    isNodeSharing(system) && topology.totalNodes === 1 && gpusUsed < topology.gpusPerNode
      ? gpusUsed
      : undefined;

  const specs = chain.jobs.map(
    (job: ChainJobPlan): LaunchSpec => ({
      launchId: context.launchId,
      jobName: makeJobName(served.servedModelName, context.launchId),
      jobTag: makeJobTag(context.launchId, job.index),
      user: context.user,
      systemName: system.name,
      containerRuntime: system.containerRuntime,
      gpuVendor: system.gpu.vendor,
      slurm: {
        partition: partition.value ?? undefined,
        account: account.value ?? undefined,
        reservation: reservation.value ?? undefined,
        timeLimit: job.timeLimit,
        timeLimitSeconds: job.timeLimitSeconds,
        sharedNodeGpus,
      },
      chain: {
        index: job.index,
        length: job.chainLength,
        offsetSeconds: job.offsetSeconds,
        totalSeconds,
        dependencyDelayMinutes: job.dependencyDelayMinutes,
      },
      framework,
      model: { id: entry?.model, path: modelPath },
      huggingFace: isHubDownload ? { repoId: modelPath, home: request.hf_home } : undefined,
      servedModelName: served.servedModelName,
      servedModelAliases: served.aliases,
      engineArgs,
      preLaunchCommands,
      topology,
      environment: {
        clusterPath: context.environment.clusterPath,
        image: env.image,
        mounts: env.mounts,
        workdir: env.workdir,
        env: env.env,
      },
      router: { isEnabled: hasRouter, port: ROUTER_PORT, args: routerArgs },
      opentela: {
        isEnabled: isOpentelaEnabled,
        bootstrapAddr,
        channel,
        binDir: isOpentelaEnabled ? system.opentela!.binDir : undefined,
      },
      metrics: {
        isEnabled: isMetricsEnabled,
        isDcgmEnabled: isMetricsEnabled && !request.disable_dcgm_exporter,
        shareDir: isMetricsEnabled ? system.metrics!.shareDir : undefined,
        remoteWriteUrl: isMetricsEnabled ? system.metrics!.remoteWriteUrl : undefined,
      },
      telemetry: { endpoint: telemetryEndpoint },
      healthCheck: {
        intervalSeconds: request.health_check_interval_s,
        // Probing every second while the engines start costs one refused connection per replica and
        // lets status see `serving` about a second after /health first answers.
        startupIntervalSeconds: 1,
        timeoutSeconds: 10,
        replicaRestarts: request.replica_restarts,
      },
      version: context.version ?? '0.0.0',
    }),
  );
  const telemetry = telemetryEndpoint
    ? {
        endpoint: telemetryEndpoint,
        note: `Each job posts SML's launch record (no secrets) to ${telemetryEndpoint} when it starts; opt out with disable_telemetry (CLI --no-telemetry), SML_TELEMETRY=0 or defaults.telemetry: false.`,
      }
    : {
        endpoint: null,
        note: telemetryOptOut
          ? `Not sent (${telemetryOptOut}).`
          : `Not sent: ${system.name} has no telemetry endpoint.`,
      };
  return { specs, warnings, slurmSettings: resolved.settings, telemetry };
}

/** Job `spec` of a chain, now that its predecessor has a SLURM job id. */
export function bindPreviousJob(spec: LaunchSpec, previousJobId: string): LaunchSpec {
  if (spec.chain.index === 0) {
    throw new SmlError('INTERNAL', 'The head of a chain has no predecessor.');
  }
  if (!/^\d+$/.test(previousJobId)) {
    throw new SmlError('INTERNAL', `Predecessor job id '${previousJobId}' is not a SLURM job id.`);
  }
  return { ...spec, chain: { ...spec.chain, previousJobId } };
}

/**
 * What a status reader needs of a launch: ports, router, OpenTela and log files (see src/jobs).
 * Give the job id for a job on a shared node: its ports carry the job's offset.
 */
export function launchLayoutOf(
  spec: LaunchSpec,
  jobId?: string,
): {
  replicas: number;
  nodesPerReplica: number;
  replicaPorts: number[];
  routerPort: number | null;
  isOpentelaEnabled: boolean;
  logFiles: string[];
} {
  const offset = spec.slurm.sharedNodeGpus !== undefined && jobId ? sharedPortOffset(jobId) : 0;
  return {
    replicas: spec.topology.replicas,
    nodesPerReplica: spec.topology.nodesPerReplica,
    replicaPorts: placeReplicas(spec.topology).map((p) => p.port + offset),
    routerPort: spec.router.isEnabled ? spec.router.port + offset : null,
    isOpentelaEnabled: spec.opentela.isEnabled,
    logFiles: logFilesOf(spec.topology, spec.router.isEnabled),
  };
}
