import type { LaunchResultView } from '../../src/jobs/types.js';
import type { LoadTestView } from '../../src/loadtest/view.js';
import { ArgparseError, type ArgSpec, type ParsedValues } from './argparse.js';
import { isTerminal } from './asker.js';
import type { ToolCaller } from './context.js';
import { smlSubmissionLines } from './launch.js';
import { follow } from './loadtest.js';
import { EXIT, printErr, printOut } from './print.js';
import {
  ADVANCED_FLAGS,
  askOnTerminal,
  launchArgsOf,
  openSmlToolCaller,
  parseOrExplain,
  preconfiguredFlags,
  reportFailure,
} from './sml.js';

/**
 * `sml-mcp loadtest preconfigured|advanced|run …`: SML's load-test commands with SML's flags, read
 * as SML's argparse reads them. preconfigured/advanced launch exactly like `sml-mcp
 * preconfigured|advanced` (same flags, same stdout lines), then load-test the new job with the
 * loadtest tool: the generator job waits on the cluster until the deployment serves, so nothing
 * here polls a gateway. `run` load-tests a job sml-mcp already launched (`--job-id`): sml-mcp's
 * generator runs next to a deployment it knows, not against an arbitrary URL. SML flags that have
 * no counterpart are accepted and named in a warning, so SML scripts run unchanged.
 */

const SML_SCENARIOS = ['throughput', 'ramp', 'open_loop', 'open_loop_ramp', 'open_loop_decode', 'sweep'];
const HH_MM_SS = /^\d+:[0-5]\d:[0-5]\d$/;

const LOADTEST_FLAGS: ArgSpec[] = [
  {
    flag: '--loadtest-scenario',
    kind: 'value',
    default: 'throughput',
    help: `Load scenario: ${SML_SCENARIOS.join(', ')} (SML's k6 scenarios, and sml-mcp's concurrency sweep)`,
  },
  { flag: '--loadtest-max-tokens', kind: 'value', metavar: 'N', help: 'Output tokens per request' },
  {
    flag: '--loadtest-ignore-eos',
    kind: 'toggle',
    help: 'Accepted; sml-mcp always generates max tokens (ignore_eos)',
  },
  {
    flag: '--loadtest-prompts-file',
    kind: 'value',
    help: 'Accepted; sml-mcp generates prompts of a set length',
  },
  { flag: '--loadtest-prompt-seed', kind: 'value', type: 'int', default: 1, help: 'Accepted' },
  {
    flag: '--loadtest-job-time',
    kind: 'value',
    default: '02:00:00',
    help: 'Validated as SML does; sml-mcp sizes the load job to its steps',
  },
  {
    flag: '--loadtest-server-url',
    kind: 'value',
    help: 'Not supported: sml-mcp tests a deployment it launched',
  },
  { flag: '--loadtest-metrics-remote-write-url', kind: 'value', help: 'Accepted; results stay in the run' },
  { flag: '--loadtest-metrics-remote-write', kind: 'toggle', default: true, help: 'Accepted' },
  { flag: '--wait-for-loadtest', kind: 'toggle', default: true, help: 'Wait for the results and print them' },
  {
    flag: '--wait-until-healthy',
    kind: 'toggle',
    default: true,
    help: 'The load job always waits until the deployment serves',
  },
  {
    flag: '--loadtest-ready-timeout',
    kind: 'value',
    type: 'int',
    default: 1_000_000,
    help: 'Longest wait in seconds for the results (with --wait-for-loadtest)',
  },
  { flag: '--cancel-after-loadtest', kind: 'switch', help: 'Cancel the deployment once the load test ended' },
];

const RUN_FLAGS: ArgSpec[] = [
  ...ADVANCED_FLAGS.filter((spec) =>
    ['--system', '--partition', '--reservation', '--account'].includes(spec.flag),
  ),
  {
    flag: '--job-id',
    kind: 'value',
    required: true,
    help: 'The sml-mcp job to load-test (sml-mcp status lists them)',
  },
  { flag: '--loadtest-model', kind: 'value', help: 'Accepted; the job knows its served model name' },
  ...LOADTEST_FLAGS,
];

type SmlLoadtestCommand = 'preconfigured' | 'advanced' | 'run';

export function isSmlLoadtestCommand(word: string | undefined): word is SmlLoadtestCommand {
  return word === 'preconfigured' || word === 'advanced' || word === 'run';
}

function flagsOf(command: SmlLoadtestCommand, isAsking: boolean): readonly ArgSpec[] {
  if (command === 'run') return RUN_FLAGS;
  return [...(command === 'advanced' ? ADVANCED_FLAGS : preconfiguredFlags(isAsking)), ...LOADTEST_FLAGS];
}

/** Run `sml-mcp loadtest preconfigured|advanced|run ARGS…`; returns the exit code. */
export async function runSmlLoadtest(command: SmlLoadtestCommand, argv: readonly string[]): Promise<number> {
  const prog = `sml-mcp loadtest ${command}`;
  // As `sml-mcp preconfigured`: on a terminal, what the flags leave out is asked.
  const isAsking = command === 'preconfigured' && isTerminal();
  const flags = flagsOf(command, isAsking);
  const parsed = parseOrExplain(
    argv,
    flags,
    prog,
    `SML's loadtest ${command}: ${command === 'run' ? 'load-test a running sml-mcp job' : 'launch a deployment, then load-test it'}.`,
    (parsed) => checkAsSml(parsed, prog, command),
  );
  if (typeof parsed === 'number') return parsed;
  const { values, given } = parsed;
  const warnings = unsupportedFlags(values);
  try {
    const tools = await openSmlToolCaller(values);
    let jobId: string | undefined;
    try {
      if (command === 'run') jobId = String(values.job_id);
      else {
        if (isAsking) await askOnTerminal(values, given, tools);
        const launch = launchArgsOf(command, values, warnings);
        for (const warning of warnings.splice(0)) printErr(`warning: ${warning}`);
        const { structured } = await tools.call<LaunchResultView>('launch', launch);
        for (const warning of structured.warnings) printErr(`warning: ${warning}`);
        printOut(smlSubmissionLines(structured, tools.config).join('\n'));
        jobId = structured.job_ids[0]!;
      }
      for (const warning of warnings) printErr(`warning: ${warning}`);
      return await loadTest(tools, jobId, values);
    } finally {
      if (values.cancel_after_loadtest === true && jobId !== undefined) await cancel(tools, jobId);
      await tools.close();
    }
  } catch (error) {
    return reportFailure(error);
  }
}

async function loadTest(tools: ToolCaller, jobId: string, values: ParsedValues): Promise<number> {
  const maxTokens = values.loadtest_max_tokens === undefined ? undefined : Number(values.loadtest_max_tokens);
  const { structured } = await tools.call<LoadTestView>('loadtest', {
    job_id: jobId,
    scenario: values.loadtest_scenario,
    ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
  });
  printOut(
    `Load test submitted: ${structured.run_id} (load job ${structured.run.load_job_id}) against job ${jobId}`,
  );
  if (values.wait_for_loadtest !== true) {
    printOut(`Follow: sml-mcp loadtest show ${structured.run_id} --wait`);
    return EXIT.ok;
  }
  return follow(tools, structured.run_id, Number(values.loadtest_ready_timeout), undefined);
}

async function cancel(tools: ToolCaller, jobId: string): Promise<void> {
  try {
    await tools.call('cancel', { job_id: jobId, confirm: true });
    printErr(`Cancelled job ${jobId} (--cancel-after-loadtest).`);
  } catch (error) {
    printErr(`warning: could not cancel job ${jobId}: ${(error as Error).message}`);
  }
}

/** SML's own validation, with SML's messages. */
function checkAsSml(values: ParsedValues, prog: string, command: SmlLoadtestCommand): void {
  if (command === 'run' && values.loadtest_server_url !== undefined)
    throw new ArgparseError(
      prog,
      '--loadtest-server-url is not supported: sml-mcp load-tests a deployment it launched, from a job next to it.',
      'Name the job instead: sml-mcp loadtest run --job-id JOB (sml-mcp status lists your jobs).',
    );
  if (values.cancel_after_loadtest === true && values.wait_for_loadtest !== true)
    throw new ArgparseError(prog, '--cancel-after-loadtest requires --wait-for-loadtest.');
  if (Number(values.loadtest_ready_timeout) <= 0)
    throw new ArgparseError(prog, '--loadtest-ready-timeout must be greater than 0.');
  if (!HH_MM_SS.test(String(values.loadtest_job_time)))
    throw new ArgparseError(prog, '--loadtest-job-time must be in HH:MM:SS format.');
  const scenario = String(values.loadtest_scenario);
  if (!SML_SCENARIOS.includes(scenario))
    throw new ArgparseError(
      prog,
      `Unknown loadtest scenario '${scenario}'. Available: ${SML_SCENARIOS.join(', ')}`,
    );
  const maxTokens = values.loadtest_max_tokens;
  if (maxTokens !== undefined && maxTokens !== 'prompt' && !/^[1-9]\d*$/.test(String(maxTokens)))
    throw new ArgparseError(
      prog,
      `--loadtest-max-tokens expects a positive number or 'prompt', got '${maxTokens}'.`,
    );
}

/** SML flags given that sml-mcp accepts but does not act on. */
function unsupportedFlags(values: ParsedValues): string[] {
  const warnings: string[] = [];
  if (values.loadtest_max_tokens === 'prompt') {
    warnings.push(
      "--loadtest-max-tokens prompt: sml-mcp's prompts carry no length; using 128 output tokens.",
    );
    delete values.loadtest_max_tokens;
  }
  if (values.loadtest_prompts_file !== undefined)
    warnings.push(
      '--loadtest-prompts-file ignored: sml-mcp generates prompts of a set length (prompt_tokens).',
    );
  if (values.loadtest_ignore_eos === false)
    warnings.push('--no-loadtest-ignore-eos ignored: every answer runs to max tokens.');
  if (values.loadtest_metrics_remote_write_url !== undefined)
    warnings.push(
      '--loadtest-metrics-remote-write-url ignored: results stay with the run (sml://jobs/{id}/loadtests/{run}).',
    );
  if (values.loadtest_server_url !== undefined)
    warnings.push(
      '--loadtest-server-url ignored: the load job sends to the deployment next to it (router, else the replicas).',
    );
  if (values.wait_until_healthy === false)
    warnings.push('--no-wait-until-healthy ignored: the load job starts once the deployment serves.');
  return warnings;
}
