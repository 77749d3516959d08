import type { JobStatusView, MetricsSnapshotView } from './types.js';

/**
 * The few figures a person watching a deployment follows, summed over its replicas: what the live
 * view in the chat (apps/live-view) and `sml-mcp status --watch` both show. Pure, no Node APIs: the
 * app's browser bundle imports it too.
 */
export interface DeploymentFigures {
  /** When the snapshot was taken (ms since the epoch). */
  at_ms: number;
  /** Generated tokens per second over all replicas. */
  tokens_per_s: number | null;
  requests_running: number | null;
  requests_queued: number | null;
  /** KV-cache use of the fullest replica, 0..1. */
  kv_cache_usage: number | null;
  /** Time to first token of the slowest replica, in seconds, since the engines started. */
  ttft_p50_s: number | null;
  ttft_p99_s: number | null;
  /** Replicas whose /metrics answered. */
  replicas_reporting: number;
  /** Counter of generated tokens, kept to compute the rate at the next snapshot. */
  generation_tokens_total: number | null;
}

/**
 * Sum a metrics snapshot over its reachable replicas. With the previous figures, tokens/s is the
 * growth of the generated-token counter between the two snapshots (both engines have it); without,
 * the engines' own throughput gauge.
 */
export function summarizeDeployment(
  snapshot: MetricsSnapshotView,
  previous?: DeploymentFigures,
): DeploymentFigures {
  const reporting = snapshot.replicas.filter((r) => r.reachable);
  const atMs = Date.parse(snapshot.collected_at);
  const tokensTotal = sumOf(reporting.map((r) => r.generation_tokens_total));
  const elapsedS = previous ? (atMs - previous.at_ms) / 1000 : 0;
  const isRateKnown =
    previous !== undefined &&
    elapsedS > 0 &&
    tokensTotal !== null &&
    previous.generation_tokens_total !== null &&
    tokensTotal >= previous.generation_tokens_total;
  return {
    at_ms: atMs,
    tokens_per_s: isRateKnown
      ? (tokensTotal - previous.generation_tokens_total!) / elapsedS
      : sumOf(reporting.map((r) => r.generation_throughput_tps)),
    requests_running: sumOf(reporting.map((r) => r.requests_running)),
    requests_queued: sumOf(reporting.map((r) => r.requests_queued)),
    kv_cache_usage: maxOf(reporting.map((r) => r.kv_cache_usage)),
    ttft_p50_s: maxOf(reporting.map((r) => r.ttft_seconds.p50)),
    ttft_p99_s: maxOf(reporting.map((r) => r.ttft_seconds.p99)),
    replicas_reporting: reporting.length,
    generation_tokens_total: tokensTotal,
  };
}

/** Whether a job's engines answer, so its metrics are worth asking for. */
export function hasLiveEngines(job: JobStatusView): boolean {
  return job.phase === 'serving' || job.phase === 'degraded';
}

/**
 * Display order of the live views: running jobs (newest first), then queued ones in the order
 * they will run (a chain's next job first), then ended ones (newest first).
 */
export function compareForDisplay(a: JobStatusView, b: JobStatusView): number {
  const group = (job: JobStatusView) => (job.phase === 'ended' ? 2 : job.phase === 'queued' ? 1 : 0);
  if (group(a) !== group(b)) return group(a) - group(b);
  const age = Number(a.job_id.split('_')[0]) - Number(b.job_id.split('_')[0]);
  return group(a) === 1 ? age : -age;
}

/** "2/3" for the chain position, "" for a job that is not part of a chain. */
export function chainPosition(job: JobStatusView): string {
  return job.chain_length > 1 ? `${job.chain_index + 1}/${job.chain_length}` : '';
}

/** Seconds as a short clock for tables: `1h05m`, `12m30s`, `45s`. */
export function formatTimeLeft(seconds: number | null): string {
  if (seconds === null) return '';
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/** A 0..1 fraction as a percentage, with a decimal below 10% where whole numbers would read 0%. */
export function formatPercent(fraction: number): string {
  const percent = fraction * 100;
  return `${percent > 0 && percent < 10 ? percent.toFixed(1) : Math.round(percent)}%`;
}

function sumOf(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return known.length > 0 ? known.reduce((total, v) => total + v, 0) : null;
}

function maxOf(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return known.length > 0 ? Math.max(...known) : null;
}
