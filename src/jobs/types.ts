import { z } from 'zod';
import { Framework } from '../domain/framework.js';
import { SLURM_STATES } from '../scheduler/scheduler.js';

/**
 * The job service's public shapes, defined once as zod: tools publish them as output schemas,
 * and every reader (resources, prompts, CLI) uses the inferred types. Field names are snake_case
 * because they go to users and agents unchanged. Published as JSON Schema: no defaults, no transforms.
 * Descriptions only where the name does not say it all: each one costs every agent context.
 */

export const LIFECYCLE_PHASES = ['queued', 'starting', 'serving', 'degraded', 'ended'] as const;
/** The lifecycle a user cares about, derived from the SLURM state plus the replica health report. */
export type LifecyclePhase = (typeof LIFECYCLE_PHASES)[number];

export const END_REASONS = [
  'completed',
  'cancelled',
  'failed',
  'timeout',
  'node_fail',
  'preempted',
  'out_of_memory',
  'unknown',
] as const;
export type EndReason = (typeof END_REASONS)[number];

export const WAIT_TARGETS = ['running', 'serving', 'ended'] as const;
export type WaitTarget = (typeof WAIT_TARGETS)[number];

export const Endpoint = z.object({
  kind: z.enum(['replica', 'router', 'gateway']).describe('gateway = OpenTela'),
  replica: z.number().int().optional(),
  url: z.string().describe('OpenAI API base URL'),
});
export type Endpoint = z.infer<typeof Endpoint>;

export const ReplicaHealth = z.object({
  replica: z.number().int(),
  node_host: z.string().nullable(),
  node_ip: z.string().nullable(),
  port: z.number().int(),
  health: z.enum(['HEALTHY', 'NOT_RESPONDING', 'ERROR', 'NOT_DEPLOYED']),
  last_seen: z.number().nullable().describe('Unix time of the last good /health'),
  peer_id: z.string().nullable(),
});
export type ReplicaHealth = z.infer<typeof ReplicaHealth>;

export const FailureHint = z.object({
  signature: z.string().describe('e.g. gpu_oom, nccl, model_path_missing'),
  cause: z.string(),
  fix: z.string(),
  file: z.string(),
  line: z.string().describe('The log line that matched'),
});
export type FailureHint = z.infer<typeof FailureHint>;

export const JobStatusView = z.object({
  job_id: z.string(),
  launch_id: z.string().describe('Same for the jobs of a chain'),
  chain_index: z.number().int(),
  chain_length: z.number().int(),
  served_model_name: z.string().describe('"model" of API requests'),
  framework: Framework,
  system: z.string(),
  phase: z.enum(LIFECYCLE_PHASES),
  end_reason: z.enum(END_REASONS).nullable(),
  slurm_state: z.enum(SLURM_STATES),
  slurm_reason: z.string().nullable(),
  submitted_at: z.string().nullable(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  time_limit_s: z.number().int().nullable().describe('null = unlimited'),
  time_left_s: z.number().int().nullable().describe('While running: until the time limit ends it'),
  nodes: z.array(z.string()),
  endpoints: z.array(Endpoint),
  replicas_expected: z.number().int(),
  replicas_healthy: z.number().int(),
  replica_health: z.array(ReplicaHealth),
  /** A stale report (> 90 s) does not count as serving. */
  health_report_age_s: z.number().nullable(),
  failure_hint: FailureHint.nullable().describe('Likely cause found in the logs'),
  is_recorded_locally: z.boolean().describe('false: known by its SLURM tag only'),
  notes: z.array(z.string()).describe('What this status cannot tell for sure, or needs attention'),
  gateway: z
    .object({ answers: z.boolean(), http_status: z.number().int().nullable(), detail: z.string() })
    .nullable()
    .describe(
      'OpenTela gateway probe (serving jobs; needs SML_SWISSAI_RESEARCH_API_KEY): does it answer there',
    ),
});
export type JobStatusView = z.infer<typeof JobStatusView>;

/** What an agent reviews before submitting: the job's shape, not its 40 KB of scripts. */
export const DryRunReview = z.object({
  sbatch: z.array(z.string()).describe('#SBATCH lines of master.sh'),
  ranks: z
    .array(z.object({ role: z.string(), runs_on: z.string(), command: z.string() }))
    .describe('What each rank runs'),
  environment: z.array(z.string()).describe('Variables set before the engine starts; container and image'),
  pre_launch: z.string().nullable(),
  scripts: z.array(z.object({ name: z.string(), uri: z.string(), bytes: z.number().int() })),
});
export type DryRunReview = z.infer<typeof DryRunReview>;
/** The review as sbatch/review.ts reads it from the scripts; the launcher adds the script links. */
export type RenderReview = Omit<DryRunReview, 'scripts'>;

const SettingChoice = z.object({
  value: z.string().nullable(),
  source: z.enum(['request', 'flag', 'env', 'file', 'system', 'cluster', 'unset']),
  from: z.string(),
});

export const LaunchResultView = z.object({
  launch_id: z.string(),
  job_ids: z.array(z.string()).describe('In chain order'),
  served_model_name: z.string(),
  system: z.string(),
  dry_run: z.boolean(),
  endpoints: z.array(Endpoint).describe('Once running'),
  resource_uris: z.array(z.string()),
  /** For chains: when each job runs, as SML prints it. */
  schedule: z.array(z.object({ job_id: z.string(), runs: z.string() })),
  review: DryRunReview.nullable().describe('Dry runs: what to check'),
  slurm_settings: z
    .object({ partition: SettingChoice, account: SettingChoice, reservation: SettingChoice })
    .describe('Each with its source; null: left to SLURM'),
  telemetry: z
    .object({ endpoint: z.string().nullable(), note: z.string() })
    .describe("SML's launch record (no secrets): where to, how to opt out"),
  warnings: z.array(z.string()),
  replayed: z.boolean().describe('idempotency_key seen before: nothing submitted'),
});
export type LaunchResultView = z.infer<typeof LaunchResultView>;

export const LogChunkView = z.object({
  job_id: z.string(),
  file: z.string(),
  text: z.string(),
  next_cursor: z.number().int().describe('cursor for what comes next'),
  size: z.number().int(),
  is_missing: z.boolean().describe('Not started yet'),
  has_more: z.boolean(),
});
export type LogChunkView = z.infer<typeof LogChunkView>;

export const CancelResultView = z.object({
  job_id: z.string(),
  cancelled: z.boolean(),
  already_ended: z.boolean(),
  note: z.string().nullable(),
});
export type CancelResultView = z.infer<typeof CancelResultView>;

const nullableNumber = z.number().nullable();

/** Figures parsed from one engine's Prometheus /metrics. */
export const EngineFigures = z.object({
  requests_running: nullableNumber,
  requests_queued: nullableNumber,
  prompt_tokens_total: nullableNumber,
  generation_tokens_total: nullableNumber,
  generation_throughput_tps: nullableNumber,
  kv_cache_usage: nullableNumber,
  ttft_seconds: z.object({ p50: nullableNumber, p90: nullableNumber, p99: nullableNumber }),
});
export type EngineFigures = z.infer<typeof EngineFigures>;

/** A snapshot parsed from the engines' Prometheus /metrics plus the replica health report. */
export const MetricsSnapshotView = z.object({
  job_id: z.string(),
  collected_at: z.string(),
  /** One entry per replica engine: its figures, or why they could not be read. */
  replicas: z.array(
    EngineFigures.extend({
      replica: z.number().int(),
      url: z.string(),
      reachable: z.boolean(),
      error: z.string().nullable(),
    }),
  ),
  replica_health: z.array(ReplicaHealth),
});
export type MetricsSnapshotView = z.infer<typeof MetricsSnapshotView>;
