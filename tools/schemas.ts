import { z } from 'zod';
import type {
  CancelResultView,
  Endpoint,
  FailureHint,
  JobStatusView,
  LaunchResultView,
  LogChunkView,
  MetricsSnapshotView,
  ReplicaHealth,
} from '../src/jobs/types.js';
import { SLURM_STATES } from '../src/scheduler/scheduler.js';

/**
 * Output schemas of the job service's views (src/jobs/types.ts), for tools' `outputSchema` and
 * the contract test. No defaults, no transforms: they are advertised as JSON Schema.
 */

export const EndpointSchema = z.object({
  kind: z
    .enum(['replica', 'router', 'gateway'])
    .describe('replica = one engine, router = sglang router in front of the replicas, gateway = OpenTela'),
  replica: z.number().int().optional().describe('Replica index for kind=replica'),
  url: z.string().describe('OpenAI-compatible base URL, e.g. http://10.77.0.11:8080/v1'),
});

export const ReplicaHealthSchema = z.object({
  replica: z.number().int(),
  node_host: z.string().nullable(),
  node_ip: z.string().nullable(),
  port: z.number().int(),
  health: z.enum(['HEALTHY', 'NOT_RESPONDING', 'ERROR', 'NOT_DEPLOYED']),
  last_seen: z.number().nullable().describe('Unix time the replica last answered /health'),
  peer_id: z.string().nullable(),
});

export const FailureHintSchema = z.object({
  signature: z.string().describe('Stable id of the failure, e.g. gpu_oom, nccl, model_path_missing'),
  cause: z.string(),
  fix: z.string(),
  file: z.string().describe('Log file where the signature was found'),
  line: z.string().describe('The log line that matched'),
});

export const JobStatusSchema = z.object({
  job_id: z.string(),
  launch_id: z.string().describe('Id shared by every job of one launch (a chain has several jobs)'),
  chain_index: z.number().int(),
  chain_length: z.number().int(),
  served_model_name: z.string().describe('The model name clients pass as "model" in OpenAI requests'),
  framework: z.enum(['sglang', 'vllm']),
  system: z.string(),
  phase: z
    .enum(['queued', 'starting', 'serving', 'degraded', 'ended'])
    .describe('queued → starting → serving (all replicas healthy) → degraded → ended'),
  end_reason: z
    .enum([
      'completed',
      'cancelled',
      'failed',
      'timeout',
      'node_fail',
      'preempted',
      'out_of_memory',
      'unknown',
    ])
    .nullable(),
  slurm_state: z.enum(SLURM_STATES),
  slurm_reason: z.string().nullable(),
  submitted_at: z.string().nullable(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  nodes: z.array(z.string()),
  endpoints: z.array(EndpointSchema),
  replicas_expected: z.number().int(),
  replicas_healthy: z.number().int(),
  replica_health: z.array(ReplicaHealthSchema),
  health_report_age_s: z.number().nullable(),
  failure_hint: FailureHintSchema.nullable().describe('Known failure signature found in the logs, if any'),
  is_recorded_locally: z
    .boolean()
    .describe('False for jobs found only through SLURM tags (their scripts and spec are unknown here)'),
});

export const LaunchResultSchema = z.object({
  launch_id: z.string(),
  job_ids: z.array(z.string()).describe('SLURM job ids, in chain order (empty for a dry run)'),
  served_model_name: z.string(),
  system: z.string(),
  dry_run: z.boolean(),
  endpoints: z.array(EndpointSchema).describe('Empty until nodes are allocated; `status` fills them'),
  resource_uris: z.array(z.string()).describe('sml:// resources of this launch (logs, scripts, metrics)'),
  schedule: z.array(z.object({ job_id: z.string(), runs: z.string() })),
  scripts: z.record(z.string(), z.string()).optional().describe('Rendered scripts (dry runs)'),
  warnings: z.array(z.string()),
  replayed: z.boolean().describe('True when an earlier launch with the same idempotency_key was returned'),
});

export const LogChunkSchema = z.object({
  job_id: z.string(),
  file: z.string(),
  text: z.string(),
  next_cursor: z.number().int().describe('Pass as `cursor` next time to read only what was written since'),
  size: z.number().int(),
  is_missing: z
    .boolean()
    .describe('The file does not exist yet (processes create their logs when they start)'),
  has_more: z.boolean().describe('More bytes are available now than this read returned'),
});

export const CancelResultSchema = z.object({
  job_id: z.string(),
  cancelled: z.boolean(),
  already_ended: z.boolean(),
  note: z.string().nullable(),
});

export const MetricsSnapshotSchema = z.object({
  job_id: z.string(),
  collected_at: z.string(),
  replicas: z.array(
    z.object({
      replica: z.number().int(),
      url: z.string(),
      reachable: z.boolean(),
      requests_running: z.number().nullable(),
      requests_queued: z.number().nullable(),
      prompt_tokens_total: z.number().nullable(),
      generation_tokens_total: z.number().nullable(),
      generation_throughput_tps: z.number().nullable(),
      kv_cache_usage: z.number().nullable(),
      ttft_seconds: z.object({
        p50: z.number().nullable(),
        p90: z.number().nullable(),
        p99: z.number().nullable(),
      }),
      error: z.string().nullable(),
    }),
  ),
  replica_health: z.array(ReplicaHealthSchema),
});

// Compile-time guard: each schema and its view type describe the same shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShapes: [
  Same<z.infer<typeof EndpointSchema>, Endpoint>,
  Same<z.infer<typeof ReplicaHealthSchema>, ReplicaHealth>,
  Same<z.infer<typeof FailureHintSchema>, FailureHint>,
  Same<z.infer<typeof JobStatusSchema>, JobStatusView>,
  Same<z.infer<typeof LaunchResultSchema>, LaunchResultView>,
  Same<z.infer<typeof LogChunkSchema>, LogChunkView>,
  Same<z.infer<typeof CancelResultSchema>, CancelResultView>,
  Same<z.infer<typeof MetricsSnapshotSchema>, MetricsSnapshotView>,
] = [true, true, true, true, true, true, true, true];
void sameShapes;
