import { parsePrometheusText, summarizeEngineMetrics } from '../jobs/prometheus.js';
import type { EngineSnapshot, Progress, Quantiles, Saturation, StepResult } from './view.js';

/**
 * The load generator's results file (assets/load_generator.py): one JSON object per line, read
 * back by byte offset as it grows. This module folds the lines read so far into what a run shows.
 */

/** Everything the results file said so far. */
export interface ResultsState {
  /** Bytes consumed (whole lines only); the next read starts here. */
  offset: number;
  started: boolean;
  url: string | null;
  waiting_replicas_healthy: number | null;
  progress: Omit<Progress, 'steps_total'> | null;
  steps: StepResult[];
  stopped_early: string | null;
  engines_before: EngineSnapshot[] | null;
  engines_after: EngineSnapshot[] | null;
  ended: { ok: boolean; error: string | null } | null;
}

export function emptyResults(): ResultsState {
  return {
    offset: 0,
    started: false,
    url: null,
    waiting_replicas_healthy: null,
    progress: null,
    steps: [],
    stopped_early: null,
    engines_before: null,
    engines_after: null,
    ended: null,
  };
}

/** Fold the bytes read at `state.offset` into a new state; a trailing partial line waits for the next read. */
export function foldResults(state: ResultsState, data: Buffer): ResultsState {
  const lastNewline = data.lastIndexOf(0x0a);
  if (lastNewline < 0) return state;
  const next: ResultsState = { ...state, steps: [...state.steps], offset: state.offset + lastNewline + 1 };
  for (const line of data.subarray(0, lastNewline).toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a torn line from a crashed writer: the rest of the file still counts
    }
    applyEvent(next, event);
  }
  return next;
}

function applyEvent(state: ResultsState, event: Record<string, unknown>): void {
  switch (event.type) {
    case 'waiting':
      state.waiting_replicas_healthy = Number(event.replicas_healthy ?? 0);
      break;
    case 'start':
      state.started = true;
      state.url = typeof event.url === 'string' ? event.url : null;
      break;
    case 'progress':
      state.progress = {
        step: Number(event.step),
        elapsed_s: Number(event.elapsed_s),
        duration_s: Number(event.duration_s),
        completed: Number(event.completed),
        errors: Number(event.errors),
        in_flight: Number(event.in_flight),
      };
      break;
    case 'step':
      state.steps.push(toStep(event));
      break;
    case 'stopped':
      state.stopped_early = String(event.reason ?? 'limit passed');
      break;
    case 'metrics': {
      const engines = (Array.isArray(event.engines) ? event.engines : []) as {
        url: string;
        status: number | null;
        text: string;
      }[];
      const snapshots = engines.map((engine) => ({
        url: engine.url,
        reachable: engine.status === 200,
        ...summarizeEngineMetrics(parsePrometheusText(engine.text ?? '')),
      }));
      if (event.when === 'before') state.engines_before = snapshots;
      else state.engines_after = snapshots;
      break;
    }
    case 'end':
      state.ended = { ok: event.ok === true, error: typeof event.error === 'string' ? event.error : null };
      break;
  }
}

function toStep(event: Record<string, unknown>): StepResult {
  const peak = (event.engine_peak ?? {}) as Record<string, number | undefined>;
  return {
    index: Number(event.index),
    concurrency: numberOrNull(event.concurrency),
    rate: numberOrNull(event.rate),
    duration_s: Number(event.duration_s),
    requests: Number(event.requests),
    ok: Number(event.ok),
    error_rate: Number(event.error_rate),
    errors: (event.errors ?? {}) as Record<string, number>,
    requests_per_s: Number(event.requests_per_s),
    output_tokens_per_s: Number(event.output_tokens_per_s),
    output_tokens_mean: numberOrNull(event.output_tokens_mean),
    ttft_s: toQuantiles(event.ttft_s),
    itl_s: toQuantiles(event.itl_s),
    e2e_s: toQuantiles(event.e2e_s),
    engine_peak: {
      requests_running: numberOrNull(peak.requests_running),
      requests_queued: numberOrNull(peak.requests_queued),
      kv_cache_usage: numberOrNull(peak.kv_cache_usage),
    },
  };
}

function toQuantiles(value: unknown): Quantiles {
  const q = (value ?? {}) as Record<string, unknown>;
  return {
    p50: numberOrNull(q.p50),
    p90: numberOrNull(q.p90),
    p99: numberOrNull(q.p99),
    mean: numberOrNull(q.mean),
  };
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Fraction of the best throughput at which a sweep counts as saturated. */
const SATURATED_AT = 0.9;

/**
 * Where more concurrent streams stop buying throughput: the lowest concurrency whose requests/s
 * reach 90% of the best step's. Null without at least two concurrency steps, or while throughput
 * still grows at the highest level.
 */
export function findSaturation(steps: readonly StepResult[]): Saturation | null {
  const levels = steps.filter((s) => s.concurrency !== null && s.ok > 0);
  if (levels.length < 2) return null;
  const best = levels.reduce((a, b) => (b.requests_per_s > a.requests_per_s ? b : a));
  const knee = levels.find((s) => s.requests_per_s >= SATURATED_AT * best.requests_per_s)!;
  if (knee === levels[levels.length - 1]) return null;
  return {
    concurrency: knee.concurrency!,
    requests_per_s: knee.requests_per_s,
    output_tokens_per_s: knee.output_tokens_per_s,
    p99_ttft_s: knee.ttft_s.p99,
    explanation: `${round(knee.requests_per_s)} req/s at ${knee.concurrency} concurrent streams is ≥ ${SATURATED_AT * 100}% of the best (${round(best.requests_per_s)} req/s at ${best.concurrency}); more streams only queue (TTFT p99 ${fmt(knee.ttft_s.p99)} → ${fmt(levels[levels.length - 1]!.ttft_s.p99)}).`,
  };
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function fmt(seconds: number | null): string {
  return seconds === null ? 'n/a' : `${round(seconds)} s`;
}
