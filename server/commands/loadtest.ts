import { type Command, InvalidArgumentError, Option } from 'commander';
import { SmlError } from '../../src/errors.js';
import { SCENARIOS } from '../../src/loadtest/plan.js';
import { isFinished } from '../../src/loadtest/service.js';
import type { LoadTestView } from '../../src/loadtest/view.js';
import { describeLoadTest } from '../../tools/loadtest.js';
import type { ToolCaller } from './context.js';
import { EXIT, printErr, printJson, printOut } from './print.js';
import { runCommand } from './run.js';

/** The loadtest tool's longest single wait; the CLI waits in rounds up to --timeout. */
const ROUND_S = 600;

type LoadTestResult = LoadTestView;

interface StartOptions {
  scenario?: string;
  concurrency?: number[];
  rate?: number;
  durationS?: number;
  promptTokens?: number;
  maxTokens?: number;
  targetRps?: number;
  targetP99TtftS?: number;
  cancelAfter?: boolean;
  wait?: boolean;
  timeout: number;
}

/**
 * `sml-mcp loadtest start JOB [options] [--wait]` and `sml-mcp loadtest show RUN [--wait]`: the
 * loadtest tool for a person. Waiting prints progress on stderr and the chart's file path at the end.
 * Exit codes: 0 done (or started), 1 failed, 3 still running at --timeout.
 */
export function registerLoadtestCommand(program: Command): Command {
  const loadtest = program
    .command('loadtest')
    .description('Load-test a serving deployment and read the results');
  loadtest
    .command('start')
    .description('Start a load test of a serving job (the generator runs as its own SLURM job)')
    .argument('<job>', 'SLURM job id of the deployment')
    .addOption(
      new Option('--scenario <name>', 'sweep (default), fixed_rate or an SML k6 scenario').choices([
        ...SCENARIOS,
      ]),
    )
    .option('--concurrency <levels>', 'sweep levels, comma-separated (default 1,4,16,64)', parseLevels)
    .option('--rate <req/s>', 'requests per second (fixed_rate)', parsePositive)
    .option('--duration-s <s>', 'seconds per step', parsePositive)
    .option('--prompt-tokens <n>', 'prompt length in words (~tokens)', parsePositive)
    .option('--max-tokens <n>', 'output tokens per request', parsePositive)
    .option('--target-rps <req/s>', 'right-size for this many requests/s', parsePositive)
    .option('--target-p99-ttft-s <s>', 'right-size within this p99 time to first token', parsePositive)
    .option('--cancel-after', 'with --wait: cancel the deployment once the test ended')
    .option('--wait', 'wait for the results (progress on stderr)')
    .option('--timeout <s>', 'longest wait with --wait (default 7200)', parsePositive, 7200)
    .action(async (job: string, options: StartOptions) =>
      runCommand(program, async (tools, global) => {
        if (options.cancelAfter && !options.wait) {
          throw new SmlError(
            'INVALID_ARGUMENT',
            '--cancel-after needs --wait: the deployment is cancelled once the test ended.',
            {
              hint: 'Add --wait, or cancel it yourself later with sml-mcp cancel JOB.',
            },
          );
        }
        const given = {
          job_id: job,
          scenario: options.scenario,
          concurrency: options.concurrency,
          rate: options.rate,
          duration_s: options.durationS,
          prompt_tokens: options.promptTokens,
          max_tokens: options.maxTokens,
          target: targetOf(options),
        };
        const args = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
        const { structured } = await tools.call<LoadTestResult>('loadtest', args);
        if (!options.wait) {
          report(structured, global.json);
          printErr(`Follow: sml-mcp loadtest show ${structured.run_id} --wait`);
          return EXIT.ok;
        }
        try {
          return await follow(tools, structured.run_id, options.timeout, targetOf(options), global.json);
        } finally {
          if (options.cancelAfter) await tools.call('cancel', { job_id: job, confirm: true });
        }
      }),
    );
  loadtest
    .command('show')
    .description('Show a load test (progress or results); --wait until it ends')
    .argument('<run>', 'load-test id (lt-…)')
    .option('--wait', 'wait for the results (progress on stderr)')
    .option('--timeout <s>', 'longest wait with --wait (default 7200)', parsePositive, 7200)
    .option('--target-rps <req/s>', 'right-size for this many requests/s', parsePositive)
    .option('--target-p99-ttft-s <s>', 'right-size within this p99 time to first token', parsePositive)
    .action(async (run: string, options: StartOptions) =>
      runCommand(program, async (tools, global) => {
        if (options.wait) return follow(tools, run, options.timeout, targetOf(options), global.json);
        const { structured } = await tools.call<LoadTestResult>('loadtest', {
          run_id: run,
          wait_s: 0,
          target: targetOf(options),
        });
        report(structured, global.json);
        return structured.phase === 'failed' ? EXIT.error : EXIT.ok;
      }),
    );
  return loadtest;
}

/** Wait in rounds until the run ends or the timeout passes. */
export async function follow(
  tools: ToolCaller,
  runId: string,
  timeoutS: number,
  target: Record<string, number> | undefined,
  json?: boolean,
): Promise<number> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const remaining = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const { structured } = await tools.call<LoadTestResult>(
      'loadtest',
      { run_id: runId, wait_s: Math.min(ROUND_S, remaining), target },
      { onProgress: (message) => printErr(message) },
    );
    const isDone = isFinished(structured.phase);
    if (isDone || Date.now() >= deadline) {
      report(structured, json);
      if (!isDone) {
        printErr(`Still ${structured.phase} after ${timeoutS} s; run: sml-mcp loadtest show ${runId} --wait`);
        return EXIT.timeout;
      }
      return structured.phase === 'completed' ? EXIT.ok : EXIT.error;
    }
  }
}

function report(view: LoadTestResult, json?: boolean): void {
  if (json) {
    printJson(view);
    return;
  }
  printOut(describeLoadTest(view));
  if (view.run.chart_path) printOut(`Chart: ${view.run.chart_path}`);
}

function targetOf(options: StartOptions): Record<string, number> | undefined {
  const target: Record<string, number> = {};
  if (options.targetRps !== undefined) target.requests_per_s = options.targetRps;
  if (options.targetP99TtftS !== undefined) target.p99_ttft_s = options.targetP99TtftS;
  return Object.keys(target).length > 0 ? target : undefined;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive number, got '${value}'.`);
  return n;
}

function parseLevels(value: string): number[] {
  const levels = value.split(',').map((part) => Number(part.trim()));
  if (levels.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new InvalidArgumentError(
      `expected whole numbers separated by commas (e.g. 1,4,16), got '${value}'.`,
    );
  }
  return levels;
}
