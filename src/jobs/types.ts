import type { SlurmState } from '../scheduler/scheduler.js';
import type { EngineFigures } from './prometheus.js';

/**
 * The job service's public shapes: what tools, resources, prompts and the CLI read and show.
 * Field names are snake_case because they go to users and agents unchanged.
 */

/** The lifecycle a user cares about, derived from the SLURM state plus the replica health report. */
export type LifecyclePhase = 'queued' | 'starting' | 'serving' | 'degraded' | 'ended';
export type EndReason =
  | 'completed'
  | 'cancelled'
  | 'failed'
  | 'timeout'
  | 'node_fail'
  | 'preempted'
  | 'out_of_memory'
  | 'unknown';
export type WaitTarget = 'running' | 'serving' | 'ended';

export interface Endpoint {
  /** `replica` (one engine), `router` (the sglang router in front of the replicas) or `gateway` (OpenTela). */
  kind: 'replica' | 'router' | 'gateway';
  replica?: number;
  /** OpenAI-compatible base URL, e.g. http://10.77.0.11:8080/v1 (known once the job runs). */
  url: string;
}

export interface ReplicaHealth {
  replica: number;
  node_host: string | null;
  node_ip: string | null;
  port: number;
  health: 'HEALTHY' | 'NOT_RESPONDING' | 'ERROR' | 'NOT_DEPLOYED';
  last_seen: number | null;
  peer_id: string | null;
}

export interface FailureHint {
  /** Stable signature id, e.g. gpu_oom, nccl, model_path_missing, image_missing, port_in_use, python_import, time_limit. */
  signature: string;
  cause: string;
  fix: string;
  /** The log file and line where the signature was found. */
  file: string;
  line: string;
}

export interface JobStatusView {
  job_id: string;
  /** Every job of the same launch (a chain has several); this job's position in it. */
  launch_id: string;
  chain_index: number;
  chain_length: number;
  served_model_name: string;
  framework: 'sglang' | 'vllm';
  system: string;
  phase: LifecyclePhase;
  end_reason: EndReason | null;
  slurm_state: SlurmState;
  slurm_reason: string | null;
  submitted_at: string | null;
  started_at: string | null;
  ended_at: string | null;
  nodes: string[];
  endpoints: Endpoint[];
  replicas_expected: number;
  replicas_healthy: number;
  replica_health: ReplicaHealth[];
  /** Seconds since the health report was written; a stale report (> 90 s) does not count as serving. */
  health_report_age_s: number | null;
  failure_hint: FailureHint | null;
  /** False for jobs found through SLURM tags with no local record (scripts and spec unknown). */
  is_recorded_locally: boolean;
}

export interface LaunchResultView {
  launch_id: string;
  job_ids: string[];
  served_model_name: string;
  system: string;
  dry_run: boolean;
  /** Endpoints known at launch time are empty until nodes are allocated; `status` fills them. */
  endpoints: Endpoint[];
  resource_uris: string[];
  /** For chains: when each job runs, as SML prints it. */
  schedule: { job_id: string; runs: string }[];
  /** Rendered scripts of the first job (always present for dry runs). */
  scripts?: Record<string, string>;
  warnings: string[];
  /** True when an idempotency key matched an earlier launch and nothing was submitted. */
  replayed: boolean;
}

export interface LogChunkView {
  job_id: string;
  file: string;
  text: string;
  /** Byte offset to pass as `cursor` next time to get only what was written since. */
  next_cursor: number;
  size: number;
  /** True when the file does not exist yet (processes create their logs when they start). */
  is_missing: boolean;
  /** True when more bytes are available right now than this read returned. */
  has_more: boolean;
}

export interface CancelResultView {
  job_id: string;
  cancelled: boolean;
  already_ended: boolean;
  note: string | null;
}

/** A snapshot parsed from the engines' Prometheus /metrics plus the replica health report. */
export interface MetricsSnapshotView {
  job_id: string;
  collected_at: string;
  /** One entry per replica engine: its figures, or why they could not be read. */
  replicas: (EngineFigures & { replica: number; url: string; reachable: boolean; error: string | null })[];
  replica_health: ReplicaHealth[];
}
