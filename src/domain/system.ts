import { z } from 'zod';

/**
 * A system profile: which cluster, how sml-mcp reaches it, what its nodes hold, and how jobs
 * get their software (container runtime). Built-in profiles cover the CSCS systems and the local
 * test cluster; users add their own in the config file.
 */

export const ContainerRuntime = z
  .enum(['edf', 'pyxis', 'apptainer', 'none'])
  .describe(
    'How replicas get their software: edf = CSCS container engine (srun --environment=<toml>), pyxis = srun --container-image, apptainer = apptainer exec, none = host environment',
  );
export type ContainerRuntime = z.infer<typeof ContainerRuntime>;

export const SchedulerConnection = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('slurm').describe('SLURM CLI on this machine (a login node)') }),
  z.object({
    kind: z.literal('ssh').describe('SLURM CLI on a login node reached over SSH'),
    host: z.string().min(1).describe('SSH host or alias of the login node'),
    user: z.string().optional(),
    port: z.number().int().positive().optional(),
    identityFile: z.string().optional(),
    /** Extra `-o key=value` options for ssh (e.g. StrictHostKeyChecking). */
    options: z.array(z.string()).default([]),
    /** Environment for the SLURM commands on the login node (e.g. SLURM_CONF, PATH), sent as an `env K=V` prefix. */
    remoteEnv: z.record(z.string(), z.string()).optional(),
  }),
  z.object({
    kind: z.literal('firecrest').describe('FirecREST v2 REST gateway'),
    url: z.string().url().describe('FirecREST base URL, e.g. https://api.cscs.ch/ml/firecrest/v2'),
    tokenUri: z.string().url().optional().describe('OIDC token endpoint for client-credentials auth'),
    /** The system name on the FirecREST side when it differs from the profile name. */
    system: z.string().optional(),
    /** SSH host or alias of a login node, for interactive shells on job nodes (SML's cluster_ssh_host; env SML_CLUSTER_SSH_HOST wins). */
    sshHost: z.string().optional(),
  }),
]);
export type SchedulerConnection = z.infer<typeof SchedulerConnection>;

export const GpuInfo = z.object({
  model: z.string().describe('GPU model, e.g. GH200, A100, MI300A'),
  memoryGiB: z.number().positive().describe('Memory per GPU in GiB'),
  perNode: z.number().int().positive().describe('GPUs per node'),
  vendor: z.enum(['nvidia', 'amd']),
});
export type GpuInfo = z.infer<typeof GpuInfo>;

export const SystemProfile = z.object({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash or underscore'),
  description: z.string().default(''),
  scheduler: SchedulerConnection,
  gpu: GpuInfo,
  cpuArch: z.enum(['aarch64', 'x86_64']),
  containerRuntime: ContainerRuntime,
  /** Partition used when neither the launch, a flag, SML_PARTITION nor the config file's defaults name one. */
  partition: z.string().optional(),
  /** Account used when none is configured; else your default account as the cluster reports it. */
  account: z.string().optional(),
  /** Reservation used when none is configured; default none. */
  reservation: z.string().optional(),
  /** Per-job wall-time cap of the cluster (longer serving uses a chain of jobs). */
  maxJobTime: z.string().default('12:00:00'),
  /** Where catalog models live on the cluster: `<registry>/<vendor>/<model>`. */
  modelRegistry: z.string(),
  /** Environment file used when neither the launch nor the catalog entry names one, per framework. */
  defaultEnvironments: z.object({ sglang: z.string(), vllm: z.string() }),
  /** Public gateway (serving-api) through which OpenTela-registered models are reachable. */
  gatewayUrl: z.string().url().optional(),
  opentela: z
    .object({
      /** Directory holding the OpenTela binaries inside the job (`<dir>/{prod,dev}/otela-<arch>`). */
      binDir: z.string(),
      prodBootstrap: z.string(),
      devBootstrap: z.string(),
    })
    .optional(),
  metrics: z
    .object({
      /** Directory with vmagent-<arch>, dcgm-exporter-<arch>, scrape configs and counters. */
      shareDir: z.string(),
      remoteWriteUrl: z.string().url(),
    })
    .optional(),
  /** Endpoint receiving SML's launch record (one JSON POST per job); SML's for the CSCS systems. */
  telemetryEndpoint: z.string().url().optional(),
  /**
   * Whether jobs may share a node. Where they may, a deployment smaller than a node asks for its
   * GPUs (`--gpus-per-node`) instead of whole nodes (`--exclusive`). Default: no for the CSCS
   * container engine (Alps allocates whole nodes), yes for pyxis, apptainer and plain hosts.
   */
  sharesNodes: z.boolean().optional(),
});
export type SystemProfile = z.infer<typeof SystemProfile>;

const CSCS_SHARE = '/capstor/store/cscs/swissai/infra01/opentela-share';
const CSCS_OPENTELA = {
  binDir: '/opentelabin',
  prodBootstrap: '/ip4/148.187.108.178/tcp/43905/p2p/QmbUKJkCfotDzbFE5uoTsXD4GRyPHjzZC1f2yAGLoeBMn9',
  devBootstrap: '/ip4/148.187.108.177/tcp/43905/p2p/QmbUKJkCfotDzbFE5uoTsXD4GRyPHjzZC1f2yAGLoeBMn9',
};
const CSCS_METRICS = {
  shareDir: CSCS_SHARE,
  remoteWriteUrl: 'https://prometheus-dev.swissai.svc.cscs.ch/api/v1/write',
};
const CSCS_FIRECREST = {
  kind: 'firecrest' as const,
  url: 'https://api.cscs.ch/ml/firecrest/v2',
  tokenUri: 'https://auth.cscs.ch/auth/realms/firecrest-clients/protocol/openid-connect/token',
};
const CSCS_REGISTRY = '/capstor/store/cscs/swissai/infra01/hf_models/models';
const CSCS_GATEWAY = 'https://api.swissai.svc.cscs.ch';
/** Where SML posts its launch record from every job (opt out: disable_telemetry, SML_TELEMETRY=0). */
const CSCS_TELEMETRY = 'https://sml-dev.swissai.svc.cscs.ch/launches';

/** Root of the local test cluster's software and model registry (test/cluster/up.sh installs it). */
export const LOCAL_CLUSTER_ROOT = '/opt/sml-local';

/**
 * The built-in profiles, written out whole (defaults included) rather than parsed at start-up:
 * test/unit/systems.test.ts checks that each one is a valid SystemProfile that parses to itself.
 */
export const BUILT_IN_SYSTEMS: readonly SystemProfile[] = [
  {
    name: 'clariden',
    description: 'CSCS Alps Clariden: 4× NVIDIA GH200 96 GB per node, aarch64, CSCS container engine',
    scheduler: CSCS_FIRECREST,
    gpu: { model: 'GH200', memoryGiB: 96, perNode: 4, vendor: 'nvidia' },
    cpuArch: 'aarch64',
    containerRuntime: 'edf',
    partition: 'normal',
    maxJobTime: '12:00:00',
    modelRegistry: CSCS_REGISTRY,
    defaultEnvironments: { sglang: 'sglang.toml', vllm: 'vllm.toml' },
    gatewayUrl: CSCS_GATEWAY,
    opentela: CSCS_OPENTELA,
    metrics: CSCS_METRICS,
    telemetryEndpoint: CSCS_TELEMETRY,
  },
  {
    name: 'bristen',
    description: 'CSCS Alps Bristen: 4× NVIDIA A100 80 GB per node, x86_64, CSCS container engine',
    scheduler: CSCS_FIRECREST,
    gpu: { model: 'A100-80GB', memoryGiB: 80, perNode: 4, vendor: 'nvidia' },
    cpuArch: 'x86_64',
    containerRuntime: 'edf',
    partition: 'normal',
    maxJobTime: '12:00:00',
    modelRegistry: CSCS_REGISTRY,
    defaultEnvironments: { sglang: 'sglang_bristen.toml', vllm: 'vllm.toml' },
    gatewayUrl: CSCS_GATEWAY,
    opentela: CSCS_OPENTELA,
    metrics: CSCS_METRICS,
    telemetryEndpoint: CSCS_TELEMETRY,
  },
  {
    name: 'beverin',
    description: 'CSCS Alps Beverin: 4× AMD MI300A 128 GB per node, x86_64, ROCm, CSCS container engine',
    scheduler: CSCS_FIRECREST,
    gpu: { model: 'MI300A', memoryGiB: 128, perNode: 4, vendor: 'amd' },
    cpuArch: 'x86_64',
    containerRuntime: 'edf',
    // The partition SML's beverin examples submit to (Beverin has no `normal` partition).
    partition: 'mi300',
    maxJobTime: '12:00:00',
    modelRegistry: CSCS_REGISTRY,
    defaultEnvironments: { sglang: 'sglang_rocm.toml', vllm: 'vllm_rocm.toml' },
    gatewayUrl: CSCS_GATEWAY,
    opentela: CSCS_OPENTELA,
    metrics: CSCS_METRICS,
    telemetryEndpoint: CSCS_TELEMETRY,
  },
  {
    name: 'local',
    description:
      'The local four-node test cluster of test/cluster (stand-in engines, no GPUs, host environment)',
    scheduler: { kind: 'slurm' },
    gpu: { model: 'GH200', memoryGiB: 96, perNode: 4, vendor: 'nvidia' },
    cpuArch: process.arch === 'arm64' ? 'aarch64' : 'x86_64',
    containerRuntime: 'none',
    partition: 'normal',
    maxJobTime: '12:00:00',
    modelRegistry: `${LOCAL_CLUSTER_ROOT}/models`,
    defaultEnvironments: {
      sglang: `${LOCAL_CLUSTER_ROOT}/env/local.toml`,
      vllm: `${LOCAL_CLUSTER_ROOT}/env/local.toml`,
    },
    opentela: {
      binDir: `${LOCAL_CLUSTER_ROOT}/opentelabin`,
      prodBootstrap: '/ip4/10.77.0.1/tcp/43905/p2p/QmLocalTestBootstrapPeer',
      devBootstrap: '/ip4/10.77.0.1/tcp/43906/p2p/QmLocalTestBootstrapPeer',
    },
  },
];

/** Whether jobs on this system may share nodes (see SystemProfile.sharesNodes). */
export function isNodeSharing(system: Pick<SystemProfile, 'sharesNodes' | 'containerRuntime'>): boolean {
  return system.sharesNodes ?? system.containerRuntime !== 'edf';
}
