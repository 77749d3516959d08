import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderLoadJob } from '../../sbatch/loadtest.js';
import { renderChart } from '../../src/loadtest/chart.js';
import { planLoad } from '../../src/loadtest/plan.js';
import { recommend } from '../../src/loadtest/recommend.js';
import { emptyResults, findSaturation, foldResults } from '../../src/loadtest/results.js';
import type { StepResult } from '../../src/loadtest/view.js';
import { thrown } from '../helpers/errors.js';

function expectSmlError(run: () => unknown, code: string, message?: RegExp): void {
  const error = thrown(run);
  expect(error.code).toBe(code);
  if (message) expect(error.message).toMatch(message);
}

function step(index: number, concurrency: number, rps: number, p99: number, errors = 0): StepResult {
  const q = { p50: p99 / 2, p90: p99 * 0.9, p99, mean: p99 / 2 };
  return {
    index,
    concurrency,
    rate: null,
    duration_s: 60,
    requests: Math.round(rps * 60),
    ok: Math.round(rps * 60) - errors,
    error_rate: errors / Math.round(rps * 60),
    errors: errors ? { http_503: errors } : {},
    requests_per_s: rps,
    output_tokens_per_s: rps * 100,
    output_tokens_mean: 100,
    ttft_s: q,
    itl_s: q,
    e2e_s: q,
    engine_peak: { requests_running: null, requests_queued: null, kv_cache_usage: null },
  };
}

describe('load plans', () => {
  it('sweeps the given levels in order, without duplicates, and stops past 10 s p99 TTFT by default', () => {
    const plan = planLoad({ scenario: 'sweep', concurrency: [16, 1, 4, 4], duration_s: 30 });
    expect(plan.steps).toEqual([
      { concurrency: 1, duration_s: 30 },
      { concurrency: 4, duration_s: 30 },
      { concurrency: 16, duration_s: 30 },
    ]);
    expect(plan.stop).toEqual({ max_error_rate: 0.05, max_p99_ttft_s: 10 });
  });

  it('scales an SML scenario to duration_s and keeps its own max_tokens', () => {
    const plan = planLoad({ scenario: 'open_loop_decode', duration_s: 120 });
    expect(plan.steps.map((s) => s.rate)).toEqual([2, 3, 4, 5]);
    expect(plan.steps.reduce((sum, s) => sum + s.duration_s, 0)).toBe(120);
    expect(plan.max_tokens).toBe(512);
    expect(planLoad({ scenario: 'throughput' }).steps).toEqual([{ concurrency: 20, duration_s: 900 }]);
  });

  it('refuses a fixed rate without rate, and fields of another scenario', () => {
    expectSmlError(() => planLoad({ scenario: 'fixed_rate' }), 'INVALID_ARGUMENT', /needs rate/);
    expectSmlError(
      () => planLoad({ scenario: 'sweep', rate: 3 }),
      'INVALID_ARGUMENT',
      /rate belongs to scenario fixed_rate/,
    );
    expectSmlError(
      () => planLoad({ scenario: 'ramp', concurrency: [2] }),
      'INVALID_ARGUMENT',
      /concurrency belongs/,
    );
  });
});

describe('results file', () => {
  it('folds whole lines only and resumes at the byte after the last newline', () => {
    const lines = [
      JSON.stringify({ type: 'start', url: 'http://n1:8080/v1' }),
      JSON.stringify({
        type: 'progress',
        step: 0,
        elapsed_s: 2,
        duration_s: 60,
        completed: 5,
        errors: 0,
        in_flight: 4,
      }),
    ];
    const whole = Buffer.from(`${lines.join('\n')}\n{"type":"step","index":0,`);
    const first = foldResults(emptyResults(), whole);
    expect(first.url).toBe('http://n1:8080/v1');
    expect(first.progress?.completed).toBe(5);
    expect(first.offset).toBe(whole.lastIndexOf(0x0a) + 1);
    const rest = Buffer.from(
      `"concurrency":4,"rate":null,"duration_s":60,"requests":10,"ok":10,"error_rate":0,"errors":{},"requests_per_s":0.5,"output_tokens_per_s":50,"ttft_s":{"p50":0.1,"p90":0.2,"p99":0.3,"mean":0.1},"itl_s":{},"e2e_s":{},"engine_peak":{"requests_queued":3}}\n{"type":"end","ok":true,"error":null}\n`,
    );
    const second = foldResults(first, Buffer.concat([whole.subarray(first.offset), rest]));
    expect(second.steps[0]?.ttft_s.p99).toBe(0.3);
    expect(second.steps[0]?.itl_s.p50).toBeNull();
    expect(second.steps[0]?.engine_peak.requests_queued).toBe(3);
    expect(second.ended).toEqual({ ok: true, error: null });
  });

  it('reads engine counters from the raw /metrics text', () => {
    const event = {
      type: 'metrics',
      when: 'before',
      engines: [
        {
          url: 'http://n1:8080/metrics',
          status: 200,
          text: 'vllm:num_requests_waiting{model_name="m"} 3\nvllm:generation_tokens_total{model_name="m"} 42\n',
        },
      ],
    };
    const state = foldResults(emptyResults(), Buffer.from(`${JSON.stringify(event)}\n`));
    expect(state.engines_before?.[0]).toMatchObject({
      reachable: true,
      requests_queued: 3,
      generation_tokens_total: 42,
    });
  });
});

describe('saturation and right-sizing', () => {
  const sweep = [step(0, 1, 1, 0.3), step(1, 4, 3.9, 0.4), step(2, 16, 4.1, 2.5), step(3, 64, 4.2, 9)];

  it('puts saturation at the lowest level reaching 90% of the best throughput', () => {
    expect(findSaturation(sweep)?.concurrency).toBe(4);
    // Still growing at the top level: no saturation seen.
    expect(findSaturation([step(0, 1, 1, 0.3), step(1, 4, 4, 0.3)])).toBeNull();
  });

  it('turns a target into replicas, GPUs and nodes from the best step within the latency limit', () => {
    const layout = {
      replicas: 2,
      nodes_per_replica: 1,
      gpus_per_replica: 1,
      gpus_per_node: 4,
      shares_nodes: true,
    };
    const advice = recommend({ requests_per_s: 20, p99_ttft_s: 2 }, sweep, layout);
    // c=4 (3.9 req/s) is the best within 2 s; two replicas were tested: 1.95 per replica.
    expect(advice).toMatchObject({ feasible: true, basis_step: 1, replicas: 11, gpus: 11, nodes: 3 });
    expect(advice.arithmetic.join('\n')).toContain('⌈20 / 1.95⌉ = 11');
    const whole = recommend({ requests_per_s: 20 }, sweep, {
      ...layout,
      replicas: 1,
      gpus_per_replica: 8,
      nodes_per_replica: 2,
    });
    expect(whole).toMatchObject({ replicas: 5, gpus: 40, nodes: 10 });
  });

  it('says when no step meets the latency target, and why more replicas would not help', () => {
    const advice = recommend({ requests_per_s: 20, p99_ttft_s: 0.1 }, sweep, null);
    expect(advice.feasible).toBe(false);
    expect(advice.advice).toContain('more replicas cannot fix that');
  });
});

const FILES = { generator: 'load_generator.py', config: 'config.json', results: 'results.jsonl' };

describe('load job script and chart', () => {
  it('renders a one-task job after the deployment, without --exclusive, that passes bash -n', () => {
    const script = renderLoadJob({
      runId: 'lt-abc',
      jobName: 'sml_loadtest_sweep_abc',
      tag: 'sml-mcp-loadtest:lt-abc',
      runDir: '/home/u/.sml/loadtests/lt-abc',
      partition: 'normal',
      timeLimit: '00:20:00',
      afterJobId: '41',
      cpus: 2,
      files: FILES,
    });
    expect(script).toContain('#SBATCH --dependency=after:41');
    expect(script).toContain('#SBATCH --ntasks=1');
    expect(script).not.toContain('--exclusive');
    const dir = mkdtempSync(join(tmpdir(), 'sml-lt-'));
    writeFileSync(join(dir, 'job.sh'), script);
    execFileSync('bash', ['-n', join(dir, 'job.sh')]);
    expectSmlError(
      () =>
        renderLoadJob({
          runId: 'x',
          jobName: 'a b',
          tag: 't',
          runDir: '/d',
          timeLimit: '1:00',
          cpus: 1,
          files: FILES,
        }),
      'INVALID_ARGUMENT',
    );
  });

  it('draws one bar per step and the p99 TTFT line, escaping the title', () => {
    const svg = renderChart([step(0, 1, 1, 0.3), step(1, 4, 3.9, 0.4)], 'me/<model>');
    expect(svg.match(/<rect x=/g)).toHaveLength(2);
    expect(svg).toContain('<polyline');
    expect(svg).toContain('me/&#60;model&#62;');
  });
});
