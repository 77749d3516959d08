import type { EngineFigures } from './types.js';

/**
 * A small reader for the Prometheus text exposition format the engines serve on /metrics, and
 * the figures a person watching a deployment wants from it (sglang and vLLM metric names).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = line.match(SAMPLE_LINE);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) {
      // One pass: `\\n` is an escaped backslash then n, not a newline.
      labels[label[1]!] = label[2]!.replace(/\\([\\"n])/g, (_, escaped: string) =>
        escaped === 'n' ? '\n' : escaped,
      );
    }
    const value =
      match[3] === '+Inf'
        ? Number.POSITIVE_INFINITY
        : match[3] === '-Inf'
          ? Number.NEGATIVE_INFINITY
          : Number(match[3]);
    if (!Number.isNaN(value)) samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** Sum of all series of the first metric name present (engines label series by model). */
function sumOf(samples: readonly Sample[], names: readonly string[]): number | null {
  for (const name of names) {
    const series = samples.filter((s) => s.name === name);
    if (series.length > 0) return series.reduce((total, s) => total + s.value, 0);
  }
  return null;
}

/** histogram_quantile over the `_bucket` series of the first histogram present, buckets summed across labels. */
export function histogramQuantile(
  samples: readonly Sample[],
  names: readonly string[],
  quantile: number,
): number | null {
  for (const name of names) {
    const byBound = new Map<number, number>();
    for (const s of samples) {
      if (s.name !== `${name}_bucket` || s.labels.le === undefined) continue;
      const bound = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
      byBound.set(bound, (byBound.get(bound) ?? 0) + s.value);
    }
    if (byBound.size === 0) continue;
    const buckets = [...byBound.entries()].sort((a, b) => a[0] - b[0]);
    const total = buckets[buckets.length - 1]![1];
    if (total <= 0) return null;
    const rank = quantile * total;
    let previousBound = 0;
    let previousCount = 0;
    for (const [bound, count] of buckets) {
      if (count >= rank) {
        if (bound === Number.POSITIVE_INFINITY) return previousBound;
        if (count === previousCount) return bound;
        return previousBound + ((bound - previousBound) * (rank - previousCount)) / (count - previousCount);
      }
      previousBound = bound;
      previousCount = count;
    }
    return previousBound;
  }
  return null;
}

const TTFT = ['sglang:time_to_first_token_seconds', 'vllm:time_to_first_token_seconds'];

export function summarizeEngineMetrics(samples: readonly Sample[]): EngineFigures {
  return {
    requests_running: sumOf(samples, ['sglang:num_running_reqs', 'vllm:num_requests_running']),
    requests_queued: sumOf(samples, ['sglang:num_queue_reqs', 'vllm:num_requests_waiting']),
    prompt_tokens_total: sumOf(samples, ['sglang:prompt_tokens_total', 'vllm:prompt_tokens_total']),
    generation_tokens_total: sumOf(samples, [
      'sglang:generation_tokens_total',
      'vllm:generation_tokens_total',
    ]),
    generation_throughput_tps: sumOf(samples, [
      'sglang:gen_throughput',
      'vllm:avg_generation_throughput_toks_per_s',
    ]),
    kv_cache_usage: sumOf(samples, [
      'sglang:token_usage',
      'vllm:kv_cache_usage_perc',
      'vllm:gpu_cache_usage_perc',
    ]),
    ttft_seconds: {
      p50: histogramQuantile(samples, TTFT, 0.5),
      p90: histogramQuantile(samples, TTFT, 0.9),
      p99: histogramQuantile(samples, TTFT, 0.99),
    },
  };
}
