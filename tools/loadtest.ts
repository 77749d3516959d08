import { z } from 'zod';
import { JOB_ID_PATTERN } from '../src/domain/ids.js';
import { SmlError } from '../src/errors.js';
import { SCENARIOS } from '../src/loadtest/plan.js';
import { LoadTestView } from '../src/loadtest/view.js';
import { defineTool } from './define-tool.js';

const DEFAULT_FOLLOW_WAIT_S = 50;

// Bounds are checked by the load-test service (src/loadtest/plan.ts): tools/list stays small.
const input = z.strictObject({
  job_id: z
    .string()
    .regex(JOB_ID_PATTERN, 'a SLURM job id such as 123456')
    .optional()
    .describe('Job to test (queued is fine)'),
  run_id: z.string().optional().describe('Follow this test'),
  scenario: z.enum(SCENARIOS).optional().describe('Default sweep'),
  concurrency: z.array(z.number().int()).optional().describe('Sweep levels; 1,4,16,64'),
  rate: z.number().optional().describe('fixed_rate req/s'),
  duration_s: z.number().int().optional().describe('Per step; 60'),
  prompt_tokens: z.number().int().optional().describe('Default 128'),
  max_tokens: z.number().int().optional().describe('Default 128'),
  target: z
    .strictObject({ requests_per_s: z.number().optional(), p99_ttft_s: z.number().optional() })
    .optional()
    .describe('Goal to size for'),
  wait_s: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .optional()
    .describe(`Default 0; ${DEFAULT_FOLLOW_WAIT_S} with run_id`),
});

const output = LoadTestView;

export const loadtestTool = defineTool({
  name: 'loadtest',
  title: 'Load test',
  description:
    'Measure a deployment: a SLURM job streams chat requests in steps (concurrency sweep, fixed rate, SML scenarios). Returns run_id; call again with it and wait_s for results.',
  kind: 'create',
  touchesCluster: true,
  input,
  output,
  // A follow-up waits wait_s (default 50 s): the call's time budget follows it.
  waitS: (args) => args.wait_s ?? (args.run_id !== undefined ? DEFAULT_FOLLOW_WAIT_S : undefined),
  async run(args, { deps, extra, progress }) {
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
      if (rest.job_id === undefined) {
        throw new SmlError(
          'INVALID_ARGUMENT',
          'Which deployment? Give job_id (or run_id to follow a test).',
          {
            hint: 'Launch first (launch returns job_ids); a queued job is fine: the test waits until it serves.',
          },
        );
      }
      view = await deps.loadtests.start({ ...rest, target }, { signal: extra.signal });
    }
    const wait = waitS ?? (runId !== undefined ? DEFAULT_FOLLOW_WAIT_S : 0);
    if (wait > 0) {
      const result = await deps.loadtests.wait(view.run_id, {
        timeoutS: wait,
        signal: extra.signal,
        goal: target,
        onProgress: progress,
      });
      view = result.view;
    }
    return {
      structured: view,
      text: describeLoadTest(view),
      links: [
        {
          type: 'resource_link',
          uri: view.run.resource_uri,
          name: `load test ${view.run_id}`,
          mimeType: 'application/json',
        },
        ...(view.steps.length > 0
          ? [
              {
                type: 'resource_link' as const,
                uri: view.run.chart_uri,
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
    `Load test ${view.run_id} of ${view.run.model}${view.run.job_id ? ` (job ${view.run.job_id})` : ''}: ${view.run.scenario}, ${view.phase}${view.run.load_job_id ? `, load job ${view.run.load_job_id}` : ''}.`,
  ];
  if (view.phase === 'queued' || view.phase === 'waiting' || view.phase === 'running')
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
  if (view.run.stopped_early) lines.push(`Stopped early: ${view.run.stopped_early}.`);
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
