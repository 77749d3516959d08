import { z } from 'zod';
import { signalWithTimeout } from '../src/abort.js';
import { isNodeSharing, type SystemProfile } from '../src/domain/system.js';
import { errorText, SmlError, toSmlError } from '../src/errors.js';
import type { Partition, Reservation } from '../src/scheduler/scheduler.js';
import type { ServerDeps } from '../src/services.js';
import { defineTool } from './define-tool.js';

// A cluster that does not answer is reported as such (`error`), well within the call's budget.
const PROBE_TIMEOUT_MS = 10_000;

const LiveInfoSchema = z.object({
  partitions: z.array(
    z.object({
      name: z.string(),
      is_default: z.boolean(),
      state: z.string().nullable(),
      max_time: z.string().nullable(),
      total_nodes: z.number().int().nullable(),
    }),
  ),
  reservations: z.array(
    z.object({
      name: z.string(),
      state: z.string().nullable(),
      start_time: z.string().nullable(),
      end_time: z.string().nullable(),
      partition: z.string().nullable(),
    }),
  ),
});

export const SystemViewSchema = z.object({
  name: z.string().describe('Pass as `system`'),
  description: z.string(),
  backend: z.enum(['slurm', 'ssh', 'firecrest']),
  gpu: z.object({
    model: z.string(),
    memory_gib: z.number(),
    per_node: z.number().int(),
    vendor: z.enum(['nvidia', 'amd']),
  }),
  cpu_arch: z.enum(['aarch64', 'x86_64']),
  container_runtime: z.enum(['edf', 'pyxis', 'apptainer', 'none']),
  max_job_time: z.string().describe('Per-job cap; longer runs chain jobs'),
  shares_nodes: z.boolean().describe('A job smaller than a node takes only its GPUs'),
  default_partition: z.string().nullable(),
  is_default: z.boolean(),
  is_user_defined: z.boolean().describe('From the config file'),
  live: LiveInfoSchema.nullable(),
  error: z.string().nullable().describe('Why live information is missing (credentials, network)'),
});
type SystemView = z.infer<typeof SystemViewSchema>;

const input = z.strictObject({
  system: z.string().max(100).optional().describe('Only this system, always queried live'),
  include_live: z
    .boolean()
    .optional()
    .describe('Partitions and reservations of the default and configured systems (default true)'),
});

const output = z.object({
  systems: z.array(SystemViewSchema),
  default_system: z.string().nullable().describe('null: none set'),
});

export const listSystemsTool = defineTool({
  name: 'list_systems',
  title: 'List systems',
  description:
    'Clusters sml-mcp knows (CSCS, the local test cluster, yours): GPU model and memory, GPUs per node, CPU, per-job time cap, and partitions and reservations of the default and configured ones; an unreachable one carries an `error`.',
  kind: 'read',
  touchesCluster: true,
  input,
  output,
  async run(args, { deps, extra }) {
    const profiles = deps.systems.profiles();
    const chosen = args.system ? profiles.filter((p) => p.name === args.system) : [...profiles];
    if (args.system && chosen.length === 0) {
      throw new SmlError('UNKNOWN_SYSTEM', `System '${args.system}' is not known.`, {
        hint: `Known systems: ${profiles.map((p) => p.name).join(', ')}; add your own under "systems" in ${deps.config.configPath}.`,
      });
    }
    const defaultSystem = deps.config.defaults.system ?? null;
    const shouldProbe = (profile: SystemProfile) =>
      args.system !== undefined ||
      (args.include_live !== false &&
        (profile.name === defaultSystem || deps.config.userSystemNames.includes(profile.name)));
    const signal = signalWithTimeout(PROBE_TIMEOUT_MS, extra.signal);
    const systems = await Promise.all(
      chosen.map((profile) => describeSystem(profile, deps, shouldProbe(profile) ? signal : undefined)),
    );
    const lines = systems.map((s) => {
      const base = `${s.name}${s.is_default ? ' (default)' : ''}: ${s.gpu.per_node}× ${s.gpu.model} ${s.gpu.memory_gib} GiB per node, ${s.cpu_arch}, via ${s.backend}`;
      if (s.error) return `${base} — not reachable: ${s.error}`;
      if (s.live) return `${base}; partitions ${s.live.partitions.map((p) => p.name).join(', ') || 'none'}`;
      return base;
    });
    const hint = defaultSystem
      ? ''
      : '\nNo default system is set: pass `system` to launch, or set SML_SYSTEM.';
    return { structured: { systems, default_system: defaultSystem }, text: lines.join('\n') + hint };
  },
});

async function describeSystem(
  profile: SystemProfile,
  deps: ServerDeps,
  probeSignal: AbortSignal | undefined,
): Promise<SystemView> {
  const view: SystemView = {
    name: profile.name,
    description: profile.description,
    backend: profile.scheduler.kind,
    gpu: {
      model: profile.gpu.model,
      memory_gib: profile.gpu.memoryGiB,
      per_node: profile.gpu.perNode,
      vendor: profile.gpu.vendor,
    },
    cpu_arch: profile.cpuArch,
    container_runtime: profile.containerRuntime,
    max_job_time: profile.maxJobTime,
    shares_nodes: isNodeSharing(profile),
    default_partition: profile.partition ?? null,
    is_default: profile.name === deps.config.defaults.system,
    is_user_defined: deps.config.userSystemNames.includes(profile.name),
    live: null,
    error: null,
  };
  if (!probeSignal) return view;
  try {
    const scheduler = deps.systems.schedulerFor(profile);
    const [partitions, reservations] = await Promise.all([
      scheduler.partitions({ signal: probeSignal }),
      scheduler.reservations({ signal: probeSignal }),
    ]);
    view.live = {
      partitions: partitions.map(toPartitionView),
      reservations: reservations.map(toReservationView),
    };
  } catch (error) {
    // The probe's own time limit, not the client: say so rather than "cancelled".
    const isProbeTimeout = probeSignal.aborted && probeSignal.reason?.name === 'TimeoutError';
    view.error = isProbeTimeout
      ? `[TIMEOUT] ${profile.name} did not answer within ${PROBE_TIMEOUT_MS / 1000} s (partitions and reservations unknown); it may be down or slow.`
      : errorText(toSmlError(error), deps.config.redact);
  }
  return view;
}

function toPartitionView(p: Partition) {
  return {
    name: p.name,
    is_default: p.isDefault,
    state: p.state ?? null,
    max_time: p.maxTime ?? null,
    total_nodes: p.totalNodes ?? null,
  };
}

function toReservationView(r: Reservation) {
  return {
    name: r.name,
    state: r.state ?? null,
    start_time: r.startTime ?? null,
    end_time: r.endTime ?? null,
    partition: r.partition ?? null,
  };
}
