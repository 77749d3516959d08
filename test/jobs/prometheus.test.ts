import { describe, expect, it } from 'vitest';
import { histogramQuantile, parsePrometheusText, summarizeEngineMetrics } from '../../src/jobs/prometheus.js';

const SGLANG = `# HELP sglang:num_running_reqs The number of running requests.
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="alice/x"} 3.0
sglang:num_queue_reqs{model_name="alice/x"} 1.0
sglang:token_usage{model_name="alice/x"} 0.25
sglang:gen_throughput{model_name="alice/x"} 120.5
sglang:prompt_tokens_total{model_name="alice/x"} 1000.0
sglang:generation_tokens_total{model_name="alice/x"} 2000.0
sglang:time_to_first_token_seconds_bucket{le="0.1",model_name="alice/x"} 50.0
sglang:time_to_first_token_seconds_bucket{le="0.5",model_name="alice/x"} 90.0
sglang:time_to_first_token_seconds_bucket{le="1.0",model_name="alice/x"} 100.0
sglang:time_to_first_token_seconds_bucket{le="+Inf",model_name="alice/x"} 100.0
`;

describe('prometheus', () => {
  it('parses labels with escapes and special values', () => {
    const samples = parsePrometheusText('m{a="x\\"y",b="z"} +Inf\nbad line\nn 2 1700000000\n');
    expect(samples).toEqual([
      { name: 'm', labels: { a: 'x"y', b: 'z' }, value: Number.POSITIVE_INFINITY },
      { name: 'n', labels: {}, value: 2 },
    ]);
  });
  it('unescapes a label value in one pass: an escaped backslash before n is no newline', () => {
    const [sample] = parsePrometheusText('m{path="C:\\\\new",quote="say \\"hi\\"",lines="a\\nb"} 1\n');
    expect(sample!.labels).toEqual({ path: 'C:\\new', quote: 'say "hi"', lines: 'a\nb' });
  });
  it('summarises sglang figures', () => {
    const figures = summarizeEngineMetrics(parsePrometheusText(SGLANG));
    expect(figures).toMatchObject({
      requests_running: 3,
      requests_queued: 1,
      kv_cache_usage: 0.25,
      generation_throughput_tps: 120.5,
    });
    expect(figures.ttft_seconds.p50).toBeCloseTo(0.1, 5);
    expect(figures.ttft_seconds.p90).toBeCloseTo(0.5, 5);
    expect(figures.ttft_seconds.p99).toBeCloseTo(0.95, 5);
  });
  it('reads vLLM names and returns null when a metric is absent', () => {
    const figures = summarizeEngineMetrics(
      parsePrometheusText(
        'vllm:num_requests_running{model_name="m"} 2\nvllm:num_requests_waiting{model_name="m"} 0\nvllm:kv_cache_usage_perc{model_name="m"} 0.5\n',
      ),
    );
    expect(figures).toMatchObject({
      requests_running: 2,
      requests_queued: 0,
      kv_cache_usage: 0.5,
      generation_throughput_tps: null,
    });
    expect(histogramQuantile([], ['vllm:time_to_first_token_seconds'], 0.5)).toBeNull();
  });
});
