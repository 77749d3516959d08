import { z } from 'zod';
import { SmlError } from '../src/errors.js';
import { SCENARIOS } from '../src/loadtest/plan.js';
import type { LoadTestView } from '../src/loadtest/service.js';
import { defineTool } from './define-tool.js';
import { jobIdField } from './fields.js';
import { createProgressReporter } from './deadline.js';

const DEFAULT_FOLLOW_WAIT_S = 50;

const Figures = z.object({
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
  mean: z.number().nullable(),
});
const Engine = z.object({
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
});

const input = z.object({
  job_id: jobIdField('The serving job to load-test').optional(),
  launch: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      'Launch tool arguments: launch this deployment, then test it once it serves (instead of job_id)',
    ),
  endpoint: z
    .object({ url: z.string().url(), model: z.string().min(1) })
    .optional()
    .describe(
      'Any OpenAI-compatible base URL the cluster reaches (…/v1) and its model name (instead of job_id)',
    ),
  run_id: z
    .string()
    .optional()
    .describe(
      'Follow an earlier load test (from this tool) instead of starting one; with wait_s, wait for it',
    ),
  scenario: z
    .enum(SCENARIOS)
    .optional()
    .describe(
      'sweep (default): concurrency levels in turn, stopping early past the limits; fixed_rate: rate req/s for duration_s; SML k6 scenarios: throughput, ramp, open_loop, open_loop_ramp, open_loop_decode',
    ),
  concurrency: z
    .array(z.number().int().min(1).max(4096))
    .min(1)
    .max(16)
    .optional()
    .describe('Sweep levels (default 1, 4, 16, 64)'),
  rate: z.number().positive().max(10_000).optional().describe('Requests per second (fixed_rate)'),
  duration_s: z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .optional()
    .describe('Seconds per step (sweep 60, fixed_rate 120; scales SML scenarios)'),
  prompt_tokens: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .optional()
    .describe('Prompt length in words (~tokens), default 128'),
  max_tokens: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .optional()
    .describe('Output tokens per request, default 128'),
  ignore_eos: z.boolean().optional().describe('Generate exactly max_tokens (default true)'),
  stop_p99_ttft_s: z
    .number()
    .positive()
    .optional()
    .describe('A step whose p99 TTFT passes this ends the test (sweep default 10)'),
  stop_error_rate: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('A step with more errors ends the test (default 0.05)'),
  target: z
    .object({
      requests_per_s: z.number().positive().optional(),
      output_tokens_per_s: z.number().positive().optional(),
      p99_ttft_s: z.number().positive().optional(),
    })
    .optional()
    .describe(
      'Goal to right-size for, e.g. {requests_per_s: 200, p99_ttft_s: 2}: adds replicas/GPUs/nodes with the arithmetic',
    ),
  cancel_after: z.boolean().optional().describe('Cancel the deployment when the test ends'),
  wait_s: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .optional()
    .describe(
      `Wait up to this long for the test to end, with progress (default: 0 when starting, ${DEFAULT_FOLLOW_WAIT_S} with run_id)`,
    ),
});

const output = z.object({
  run_id: z.string(),
  job_id: z.string().nullable().describe('Deployment under test'),
  load_job_id: z.string().nullable().describe('SLURM job of the load generator'),
  system: z.string(),
  scenario: z.string(),
  model: z.string(),
  phase: z.enum(['queued', 'waiting_for_endpoint', 'running', 'completed', 'failed', 'cancelled']),
  endpoint: z.string().nullable(),
  progress: z
    .object({
      step: z.number(),
      steps_total: z.number(),
      elapsed_s: z.number(),
      duration_s: z.number(),
      completed: z.number(),
      errors: z.number(),
      in_flight: z.number(),
    })
    .nullable(),
  steps: z.array(
    z.object({
      index: z.number(),
      concurrency: z.number().nullable(),
      rate: z.number().nullable(),
      duration_s: z.number(),
      requests: z.number(),
      ok: z.number(),
      error_rate: z.number(),
      errors: z
        .record(z.string(), z.number())
        .describe('Failed requests by kind: http_<code>, timeout, connection, …'),
      requests_per_s: z.number(),
      output_tokens_per_s: z.number(),
      output_tokens_mean: z.number().nullable(),
      ttft_s: Figures.describe('Time to first token'),
      itl_s: Figures.describe('Mean gap between later tokens, per request'),
      e2e_s: Figures,
      engine_peak: z.object({
        requests_running: z.number().nullable(),
        requests_queued: z.number().nullable(),
        kv_cache_usage: z.number().nullable(),
      }),
    }),
  ),
  stopped_early: z.string().nullable(),
  saturation: z
    .object({
      concurrency: z.number(),
      requests_per_s: z.number(),
      output_tokens_per_s: z.number(),
      p99_ttft_s: z.number().nullable(),
      explanation: z.string(),
    })
    .nullable()
    .describe('Where more concurrency stopped adding throughput'),
  engine_metrics: z.object({ before: z.array(Engine).nullable(), after: z.array(Engine).nullable() }),
  recommend: z
    .object({
      feasible: z.boolean(),
      basis_step: z.number().nullable(),
      per_replica: z.object({ requests_per_s: z.number(), output_tokens_per_s: z.number() }).nullable(),
      replicas: z.number().nullable(),
      gpus: z.number().nullable(),
      nodes: z.number().nullable(),
      arithmetic: z.array(z.string()),
      advice: z.string(),
    })
    .nullable(),
  error: z.string().nullable(),
  results_path: z.string(),
  resource_uri: z.string(),
  chart_uri: z.string(),
  chart_path: z.string().nullable().describe('The chart as an SVG file on the machine running sml-mcp'),
  timed_out: z.boolean().describe('wait_s passed before the test ended; call again with run_id'),
});

export const loadtestTool = defineTool({
  name: 'loadtest',
  title: 'Load-test a deployment',
  description:
    'Measure what a serving deployment sustains: a load generator runs as its own SLURM job next to it and streams chat requests, reporting per step requests/s, output tokens/s, time to first token, inter-token and end-to-end latency (p50/p90/p99), errors by kind, and engine queue/KV-cache use. Give job_id (or launch to deploy first, or endpoint). Returns at once with run_id; call again with run_id (and wait_s) for progress and results. With target it recommends replicas, GPUs and nodes. Results: resource_uri; chart: chart_uri (SVG).',
  kind: 'create',
  touchesCluster: true,
  input,
  output,
  async run(args, { deps, extra }) {
    const { run_id: runId, wait_s: waitS, target, ...rest } = args;
    let view: LoadTestView;
    if (runId !== undefined) {
      const starting = ['job_id', 'launch', 'endpoint', 'scenario'].filter(
        (k) => rest[k as keyof typeof rest] !== undefined,
      );
      if (starting.length > 0) {
        throw new SmlError(
          'INVALID_ARGUMENT',
          `run_id follows an earlier test; ${starting.join(', ')} start a new one.`,
          {
            hint: 'Pass run_id alone (with wait_s or target), or drop run_id to start a test.',
          },
        );
      }
      view = await deps.loadtests.get(runId, { signal: extra.signal, goal: target });
    } else {
      view = await deps.loadtests.start({ ...rest, target }, { signal: extra.signal });
    }
    const wait = waitS ?? (runId !== undefined ? DEFAULT_FOLLOW_WAIT_S : 0);
    let timedOut = false;
    if (wait > 0) {
      const result = await deps.loadtests.wait(view.run_id, {
        timeoutS: wait,
        signal: extra.signal,
        goal: target,
        onProgress: createProgressReporter(extra, wait),
      });
      view = result.view;
      timedOut = result.timed_out;
    }
    return {
      structured: { ...view, timed_out: timedOut },
      text: describeLoadTest(view),
      links: [
        {
          type: 'resource_link',
          uri: view.resource_uri,
          name: `load test ${view.run_id}`,
          mimeType: 'application/json',
        },
        ...(view.steps.length > 0
          ? [
              {
                type: 'resource_link' as const,
                uri: view.chart_uri,
                name: `load test ${view.run_id} chart`,
                mimeType: 'image/svg+xml',
              },
            ]
          : []),
      ],
    };
  },
});

/** A short report: phase, one line per step, saturation and the recommendation. */
export function describeLoadTest(view: LoadTestView): string {
  const lines = [
    `Load test ${view.run_id} of ${view.model}${view.job_id ? ` (job ${view.job_id})` : ''}: ${view.scenario}, ${view.phase}${view.load_job_id ? `, load job ${view.load_job_id}` : ''}.`,
  ];
  if (view.phase === 'queued' || view.phase === 'waiting_for_endpoint' || view.phase === 'running')
    lines.push(`Follow: call loadtest with run_id "${view.run_id}" and wait_s.`);
  for (const s of view.steps) {
    const load = s.concurrency !== null ? `c=${s.concurrency}` : `${s.rate} req/s`;
    const errors = Object.entries(s.errors)
      .map(([k, n]) => `${k}×${n}`)
      .join(' ');
    lines.push(
      `  ${load}: ${fixed(s.requests_per_s)} req/s, ${fixed(s.output_tokens_per_s, 1)} tok/s, TTFT p50/p99 ${sec(s.ttft_s.p50)}/${sec(s.ttft_s.p99)}, ITL p50 ${sec(s.itl_s.p50, 3)}, E2E p99 ${sec(s.e2e_s.p99)}${errors ? `, errors ${errors}` : ''}`,
    );
  }
  if (view.stopped_early) lines.push(`Stopped early: ${view.stopped_early}.`);
  if (view.saturation) lines.push(`Saturation: ${view.saturation.explanation}`);
  if (view.recommend)
    lines.push(
      'Recommendation:',
      ...view.recommend.arithmetic.map((a) => `  ${a}`),
      `  ${view.recommend.advice}`,
    );
  if (view.error) lines.push(`Error: ${view.error}`);
  return lines.join('\n');
}

function fixed(value: number, digits = 2): string {
  return value.toFixed(digits);
}

function sec(value: number | null, digits = 2): string {
  return value === null ? 'n/a' : `${value.toFixed(digits)}s`;
}
