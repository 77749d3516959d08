import { z } from 'zod';
import { EngineFigures } from '../jobs/types.js';
import { BRIEF } from '../published.js';

/** What a load test shows (the loadtest tool's result and the sml://jobs/{id}/loadtests/{run} resource). */

const nullableNumber = z.number().nullable();

export const Quantiles = z.object({
  p50: nullableNumber,
  p90: nullableNumber,
  p99: nullableNumber,
  mean: nullableNumber,
});
export type Quantiles = z.infer<typeof Quantiles>;

/** One step of the load: what it sustained and how fast the answers came. */
export const StepResult = z.object({
  index: z.number().int(),
  concurrency: nullableNumber.describe('Concurrent streams (closed loop), null for a rate step'),
  rate: nullableNumber.describe('Requests started per second (open loop), null for a concurrency step'),
  duration_s: z.number(),
  requests: z.number().int(),
  ok: z.number().int(),
  error_rate: z.number(),
  errors: z
    .record(z.string(), z.number())
    .describe('Failed requests by kind: http_<code>, timeout, connection, …'),
  requests_per_s: z.number(),
  output_tokens_per_s: z.number(),
  output_tokens_mean: nullableNumber,
  ttft_s: Quantiles.describe('Time to first token'),
  itl_s: Quantiles.describe('Mean gap between later tokens, per request'),
  e2e_s: Quantiles,
  engine_peak: z
    .object({
      requests_running: nullableNumber,
      requests_queued: nullableNumber,
      kv_cache_usage: nullableNumber,
    })
    .describe('Highest engine gauges seen during the step, summed over the engines'),
});
export type StepResult = z.infer<typeof StepResult>;

export const EngineSnapshot = EngineFigures.extend({ url: z.string(), reachable: z.boolean() });
export type EngineSnapshot = z.infer<typeof EngineSnapshot>;

export const Progress = z.object({
  step: z.number().int(),
  steps_total: z.number().int(),
  elapsed_s: z.number(),
  duration_s: z.number(),
  completed: z.number().int(),
  errors: z.number().int(),
  in_flight: z.number().int(),
});
export type Progress = z.infer<typeof Progress>;

export const Saturation = z.object({
  concurrency: z.number(),
  requests_per_s: z.number(),
  output_tokens_per_s: z.number(),
  p99_ttft_s: nullableNumber,
  explanation: z.string(),
});
export type Saturation = z.infer<typeof Saturation>;

export const Recommendation = z.object({
  feasible: z.boolean(),
  basis_step: nullableNumber,
  per_replica: z.object({ requests_per_s: z.number(), output_tokens_per_s: z.number() }).nullable(),
  replicas: nullableNumber,
  gpus: nullableNumber,
  nodes: nullableNumber,
  /** The arithmetic, one line per step of the reasoning. */
  arithmetic: z.array(z.string()),
  advice: z.string(),
});
export type Recommendation = z.infer<typeof Recommendation>;

export const LOAD_TEST_PHASES = ['queued', 'waiting', 'running', 'completed', 'failed', 'cancelled'] as const;
export type LoadTestPhase = (typeof LOAD_TEST_PHASES)[number];

export const LoadTestView = z.object({
  run_id: z.string(),
  phase: z.enum(LOAD_TEST_PHASES),
  run: z
    .object({
      job_id: z.string(),
      scenario: z.string(),
      model: z.string(),
      system: z.string(),
      load_job_id: z.string().nullable(),
      endpoint: z.string().nullable(),
      stopped_early: z.string().nullable(),
      results_path: z.string(),
      resource_uri: z.string(),
      chart_uri: z.string(),
      chart_path: z.string().nullable(),
    })
    .meta({
      ...BRIEF,
      description: 'scenario, model, load job, endpoint, files',
    }),
  progress: Progress.nullable().meta({ ...BRIEF, description: 'step, requests' }),
  steps: z.array(StepResult).meta({ ...BRIEF, description: 'req/s, tok/s, TTFT/ITL/E2E p50-p99, errors' }),
  saturation: Saturation.nullable().meta({
    ...BRIEF,
    description: 'Knee of the sweep',
  }),
  recommend: Recommendation.nullable().meta({ ...BRIEF, description: 'replicas, gpus, nodes' }),
  engine_metrics: z
    .object({ before: z.array(EngineSnapshot).nullable(), after: z.array(EngineSnapshot).nullable() })
    .meta({ ...BRIEF, description: 'before, after' }),
  error: z.string().nullable(),
});
export type LoadTestView = z.infer<typeof LoadTestView>;
