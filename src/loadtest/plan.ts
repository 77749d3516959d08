import { z } from 'zod';
import { SmlError } from '../errors.js';

/**
 * What a load test does, step by step. A step is closed-loop (N concurrent streams, each sending
 * its next request when the last one ended, like k6's constant VUs) or open-loop (a fixed arrival
 * rate, like k6's constant-arrival-rate). SML's k6 scenarios are reproduced as steps (its linear
 * ramps become stairs of the same levels and length); `sweep` and `fixed_rate` are the two an
 * agent needs for sizing.
 */

export const SCENARIOS = [
  'sweep',
  'fixed_rate',
  'throughput',
  'ramp',
  'open_loop',
  'open_loop_ramp',
  'open_loop_decode',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface LoadStep {
  /** Concurrent streams (closed loop); absent for a rate step. */
  concurrency?: number;
  /** Requests started per second (open loop); absent for a concurrency step. */
  rate?: number;
  duration_s: number;
}

export const LoadShape = z.object({
  scenario: z.enum(SCENARIOS).default('sweep'),
  concurrency: z.array(z.number().int().min(1).max(4096)).min(1).max(16).optional(),
  rate: z.number().positive().max(10_000).optional(),
  duration_s: z.number().int().min(1).max(86_400).optional(),
  prompt_tokens: z.number().int().min(1).max(1_000_000).optional(),
  max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  /** A sweep ends after a step whose p99 TTFT passes this (default 10 s). */
  stop_p99_ttft_s: z.number().positive().optional(),
});
export type LoadShape = z.infer<typeof LoadShape>;

export interface LoadPlan {
  scenario: Scenario;
  steps: LoadStep[];
  prompt_tokens: number;
  max_tokens: number;
  ignore_eos: boolean;
  request_timeout_s: number;
  /** Limits after which a sweep stops early (later steps would only be slower). */
  stop: { max_error_rate: number; max_p99_ttft_s: number | null };
}

export const DEFAULT_SWEEP = [1, 4, 16, 64];
const DEFAULT_PROMPT_TOKENS = 128;
const DEFAULT_MAX_TOKENS = 128;
const DEFAULT_STOP_ERROR_RATE = 0.05;

interface ScenarioDefaults {
  steps: LoadStep[];
  max_tokens?: number;
  ignore_eos?: boolean;
  request_timeout_s?: number;
}

const minutes = (m: number) => m * 60;

/** SML's k6 scenarios (assets/loadtest/scenarios), as stairs. */
const SML_SCENARIOS: Record<Exclude<Scenario, 'sweep' | 'fixed_rate'>, ScenarioDefaults> = {
  throughput: { steps: [{ concurrency: 20, duration_s: minutes(15) }] },
  ramp: {
    steps: [
      { concurrency: 10, duration_s: minutes(5) },
      { concurrency: 25, duration_s: minutes(5) },
      { concurrency: 50, duration_s: minutes(6) },
    ],
  },
  open_loop: {
    steps: [{ rate: 20, duration_s: minutes(15) }],
    ignore_eos: true,
    request_timeout_s: 180,
  },
  open_loop_ramp: {
    steps: [2, 9, 16, 23, 30].map((rate) => ({ rate, duration_s: minutes(3) })),
  },
  open_loop_decode: {
    steps: [2, 3, 4, 5].map((rate) => ({ rate, duration_s: minutes(3) })),
    max_tokens: 512,
  },
};

/** The steps and request shape of a load test. */
export function planLoad(shape: LoadShape): LoadPlan {
  const scenario = shape.scenario;
  let defaults: ScenarioDefaults;
  if (scenario === 'sweep') {
    if (shape.rate !== undefined) throw misplaced('rate', 'fixed_rate');
    const levels = [...new Set(shape.concurrency ?? DEFAULT_SWEEP)].sort((a, b) => a - b);
    defaults = { steps: levels.map((concurrency) => ({ concurrency, duration_s: shape.duration_s ?? 60 })) };
  } else if (scenario === 'fixed_rate') {
    if (shape.rate === undefined) {
      throw new SmlError('INVALID_ARGUMENT', 'Scenario fixed_rate needs rate (requests per second).', {
        hint: 'Pass e.g. rate: 5 and duration_s: 120.',
      });
    }
    if (shape.concurrency !== undefined) throw misplaced('concurrency', 'sweep');
    defaults = { steps: [{ rate: shape.rate, duration_s: shape.duration_s ?? 120 }] };
  } else {
    if (shape.concurrency !== undefined) throw misplaced('concurrency', 'sweep');
    if (shape.rate !== undefined) throw misplaced('rate', 'fixed_rate');
    const sml = SML_SCENARIOS[scenario];
    // duration_s scales an SML scenario's steps to that total length, keeping their proportions.
    const total = sml.steps.reduce((sum, step) => sum + step.duration_s, 0);
    const scale = shape.duration_s === undefined ? 1 : shape.duration_s / total;
    defaults = {
      ...sml,
      steps: sml.steps.map((step) => ({
        ...step,
        duration_s: Math.max(1, Math.round(step.duration_s * scale)),
      })),
    };
  }
  return {
    scenario,
    steps: defaults.steps,
    prompt_tokens: shape.prompt_tokens ?? DEFAULT_PROMPT_TOKENS,
    max_tokens: shape.max_tokens ?? defaults.max_tokens ?? DEFAULT_MAX_TOKENS,
    ignore_eos: defaults.ignore_eos ?? true,
    request_timeout_s: defaults.request_timeout_s ?? 300,
    stop: {
      max_error_rate: DEFAULT_STOP_ERROR_RATE,
      max_p99_ttft_s: shape.stop_p99_ttft_s ?? (scenario === 'sweep' ? 10 : null),
    },
  };
}

/** Seconds the steps take (without the tail of the last requests). */
export function planSeconds(plan: LoadPlan): number {
  return plan.steps.reduce((sum, step) => sum + step.duration_s, 0);
}

function misplaced(field: string, scenario: string): SmlError {
  return new SmlError('INVALID_ARGUMENT', `${field} belongs to scenario ${scenario}.`, {
    hint: `Set scenario: "${scenario}", or drop ${field}.`,
  });
}
