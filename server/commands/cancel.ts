import type { Command } from 'commander';
import type { CancelResultView } from '../../src/jobs/types.js';
import { printJson, printOut } from './print.js';
import { runCommand } from './run.js';

/**
 * `sml-mcp cancel JOB [--yes]`: on a terminal the server asks for confirmation; elsewhere --yes
 * is required. Cancels the whole chain unless --only-this-job.
 */
export function registerCancelCommand(program: Command): void {
  program
    .command('cancel')
    .description('Stop a deployment (every job of its chain); asks first unless --yes')
    .argument('<job>', 'SLURM job id')
    .option('-y, --yes', 'Do not ask: the user already agreed')
    .option('--only-this-job', 'In a chain, cancel only this job and let its successor take over')
    .option('--allow-foreign', 'Also cancel a job that sml-mcp did not launch')
    .action(async (job: string, options: { yes?: boolean; onlyThisJob?: boolean; allowForeign?: boolean }) =>
      runCommand(program, async (tools, global) => {
        const { structured } = await tools.call<{
          outcome: string;
          summary: string;
          results: CancelResultView[];
        }>('cancel', {
          job_id: job,
          confirm: options.yes ? true : undefined,
          whole_chain: !options.onlyThisJob,
          allow_foreign: options.allowForeign ? true : undefined,
        });
        if (global.json) return printJson(structured);
        if (structured.outcome === 'declined') return printOut(`Not cancelled: ${structured.summary}`);
        for (const result of structured.results) {
          printOut(
            result.already_ended
              ? (result.note ?? `Job ${result.job_id} had already ended; nothing to cancel.`)
              : `Job ${result.job_id} cancelled.`,
          );
        }
      }),
    );
}
