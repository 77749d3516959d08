import { type Command, InvalidArgumentError, Option } from 'commander';
import { SmlError } from '../../src/errors.js';
import type { JobStatusView } from '../../src/jobs/types.js';
import type { GlobalOptions } from './context.js';
import { EXIT, printErr, printJson, printOut } from './print.js';
import { runCommand } from './run.js';
import { DEFAULT_WATCH_INTERVAL_S, parseInterval, watchJobs } from './top.js';

/** The status tool's longest single wait; the CLI waits in rounds up to --timeout. */
const ROUND_S = 600;

interface StatusResult {
  jobs: JobStatusView[];
  wait: { target: string; reached: boolean; timed_out: boolean; waited_s: number } | null;
}

/**
 * `sml-mcp status [JOB…] [--wait PHASE] [--timeout S]`: exit 0 when every job reached the phase,
 * 3 on timeout, 4 when a job ended first.
 */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'Show the lifecycle of jobs (all your sml-mcp jobs when none given); optionally wait for a phase',
    )
    .argument('[jobs...]', 'SLURM job ids')
    .addOption(
      new Option('--wait <phase>', 'Wait until every job reaches this phase').choices([
        'running',
        'serving',
        'ended',
      ]),
    )
    .option('--timeout <seconds>', 'Longest wait (default 1800)', parseSeconds, 1800)
    .option(
      '-w, --watch',
      'Redraw a live table (phase, health, tokens/s, queue, TTFT, time left) until Ctrl-C',
    )
    .option(
      '--interval <seconds>',
      `Seconds between --watch refreshes (default ${DEFAULT_WATCH_INTERVAL_S})`,
      parseInterval,
    )
    .action(
      async (
        jobs: string[],
        options: { wait?: string; timeout: number; watch?: boolean; interval?: number },
      ) =>
        runCommand(program, async (tools, global) => {
          const jobIds = jobs.length > 0 ? jobs : undefined;
          if (options.watch) {
            if (options.wait)
              throw new SmlError('INVALID_ARGUMENT', '--watch and --wait do not go together.', {
                hint: 'Use --wait to block until a phase (for scripts), --watch to look at a live table.',
              });
            return watchJobs(tools, {
              jobIds,
              intervalS: options.interval ?? DEFAULT_WATCH_INTERVAL_S,
              isJson: global.json === true,
            });
          }
          if (!options.wait) {
            const { structured } = await tools.call<StatusResult>('status', { job_ids: jobIds });
            print(structured, global);
            return EXIT.ok;
          }
          if (!jobIds)
            throw new SmlError('INVALID_ARGUMENT', '--wait needs job ids.', {
              hint: 'For example: sml-mcp status 12345 --wait serving',
            });
          const deadline = Date.now() + options.timeout * 1000;
          for (;;) {
            const remaining = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
            const { structured } = await tools.call<StatusResult>(
              'status',
              { job_ids: jobIds, wait_until: options.wait, timeout_s: Math.min(ROUND_S, remaining) },
              { onProgress: (message) => printErr(message) },
            );
            const wait = structured.wait!;
            if (wait.reached || !wait.timed_out || Date.now() >= deadline) {
              print(structured, global);
              if (wait.reached) return EXIT.ok;
              if (wait.timed_out) {
                printErr(`Timed out after ${options.timeout} s before every job was ${options.wait}.`);
                return EXIT.timeout;
              }
              printErr(`A job ended before it was ${options.wait}.`);
              return EXIT.endedFirst;
            }
          }
        }),
    );
}

function print(result: StatusResult, global: GlobalOptions): void {
  if (global.json) {
    printJson(result);
    return;
  }
  if (result.jobs.length === 0) {
    printOut('No sml-mcp jobs found.');
    return;
  }
  for (const job of result.jobs) {
    const phase = job.phase === 'ended' ? `ended (${job.end_reason})` : job.phase;
    const lines = [
      `Job ${job.job_id}  ${phase}  [SLURM ${job.slurm_state}${job.slurm_reason ? `: ${job.slurm_reason}` : ''}]`,
      job.served_model_name
        ? `  model     ${job.served_model_name} (${job.framework}) on ${job.system}`
        : `  system    ${job.system}`,
    ];
    if (job.chain_length > 1) lines.push(`  chain     job ${job.chain_index + 1} of ${job.chain_length}`);
    if (job.nodes.length > 0) lines.push(`  nodes     ${job.nodes.join(', ')}`);
    if (job.replicas_expected > 0)
      lines.push(`  replicas  ${job.replicas_healthy}/${job.replicas_expected} healthy`);
    for (const endpoint of job.endpoints)
      lines.push(
        `  endpoint  ${endpoint.kind}${endpoint.replica !== undefined ? ` ${endpoint.replica}` : ''}: ${endpoint.url}`,
      );
    if (job.failure_hint) {
      lines.push(
        `  cause     ${job.failure_hint.cause}`,
        `  fix       ${job.failure_hint.fix}`,
        `  seen in   ${job.failure_hint.file}: ${job.failure_hint.line}`,
      );
    }
    printOut(lines.join('\n'));
  }
}

function parseSeconds(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError(`expects a number of seconds (1 or more), got '${value}'.`);
  }
  return Number(value);
}
