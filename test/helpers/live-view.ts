import type { JobStatusView, MetricsSnapshotView } from '../../src/jobs/types.js';

/** A job status as the status tool reports it, with the given fields changed. */
export function aJob(fields: Partial<JobStatusView>): JobStatusView {
  return {
    job_id: '7',
    launch_id: 'L7',
    chain_index: 0,
    chain_length: 1,
    served_model_name: 'alice/swiss-ai/Apertus-8B',
    framework: 'sglang',
    system: 'local',
    phase: 'serving',
    end_reason: null,
    slurm_state: 'RUNNING',
    slurm_reason: null,
    submitted_at: '2026-11-30T02:58:00',
    started_at: '2026-11-30T03:00:00',
    ended_at: null,
    time_limit_s: 3600,
    time_left_s: 3000,
    nodes: ['n1'],
    endpoints: [{ kind: 'replica', replica: 0, url: 'http://10.77.0.11:8080/v1' }],
    replicas_expected: 1,
    replicas_healthy: 1,
    replica_health: [],
    health_report_age_s: 3,
    failure_hint: null,
    is_recorded_locally: true,
    notes: [],
    gateway: null,
    ...fields,
  };
}

/** One replica of a metrics snapshot. */
export function aReplica(fields: {
  reachable?: boolean;
  requests_running?: number;
  requests_queued?: number;
  kv_cache_usage?: number;
  generation_throughput_tps?: number;
  generation_tokens_total?: number;
  ttft?: [number, number];
}): MetricsSnapshotView['replicas'][number] {
  return {
    replica: 0,
    url: 'http://10.77.0.11:8080/metrics',
    reachable: fields.reachable ?? true,
    error: fields.reachable === false ? 'not reachable' : null,
    requests_running: fields.requests_running ?? null,
    requests_queued: fields.requests_queued ?? null,
    prompt_tokens_total: null,
    generation_tokens_total: fields.generation_tokens_total ?? null,
    generation_throughput_tps: fields.generation_throughput_tps ?? null,
    kv_cache_usage: fields.kv_cache_usage ?? null,
    ttft_seconds: { p50: fields.ttft?.[0] ?? null, p90: null, p99: fields.ttft?.[1] ?? null },
  };
}
