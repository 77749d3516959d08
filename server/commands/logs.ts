import { type Command, InvalidArgumentError } from 'commander';
import type { JobStatusView, LogChunkView } from '../../src/jobs/types.js';
import { printJson } from './print.js';
import { runCommand } from './run.js';

const FOLLOW_INTERVAL_MS = 2000;

/** `sml-mcp logs JOB [--file F] [--tail N] [-f]`: a log of a job; -f follows it until the job ends. */
export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description('Print a log file of a job (log.out, log.err, replica_0.out, router.err, …); -f follows it')
    .argument('<job>', 'SLURM job id')
    .option('--file <name>', 'Log file (default log.out; see the files list with --json)', 'log.out')
    .option('--tail <lines>', 'Only the last N lines (default 100 without -f)', parseLines)
    .option('-f, --follow', 'Keep printing new output until the job ends (Ctrl-C to stop)')
    .action(async (job: string, options: { file: string; tail?: number; follow?: boolean }) =>
      runCommand(program, async (tools, global) => {
        const first = await tools.call<LogChunkView & { files: string[] }>('logs', {
          job_id: job,
          file: options.file,
          tail_lines: options.tail ?? 100,
        });
        if (global.json && !options.follow) return printJson(first.structured);
        process.stdout.write(first.structured.text);
        if (!options.follow) return;
        let cursor = first.structured.next_cursor;
        for (;;) {
          const chunk = await tools.call<LogChunkView>('logs', { job_id: job, file: options.file, cursor });
          process.stdout.write(chunk.structured.text);
          cursor = chunk.structured.next_cursor;
          if (chunk.structured.has_more) continue;
          const { structured } = await tools.call<{ jobs: JobStatusView[] }>('status', { job_ids: [job] });
          if (structured.jobs[0]?.phase === 'ended') {
            const last = await tools.call<LogChunkView>('logs', {
              job_id: job,
              file: options.file,
              cursor,
            });
            process.stdout.write(last.structured.text);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
        }
      }),
    );
}

function parseLines(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`expects a number of lines, got '${value}'.`);
  return Number(value);
}
