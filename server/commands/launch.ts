import type { Command } from 'commander';
import type { LaunchResultView } from '../../src/jobs/types.js';
import { describeReview, launchTool } from '../../tools/launch.js';
import type { GlobalOptions } from './context.js';
import { addSchemaOptions, schemaArguments } from './flags.js';
import { printJson, printOut } from './print.js';
import { runCommand } from './run.js';

const LAUNCH_SHAPE = launchTool.input.shape;

/**
 * `sml-mcp launch`: the launch tool with every knob as a flag. Prints SML's stdout contract
 * (`Job submitted: <id>` / `Served model name: …` / `Logs: …`) so SML scripts keep working.
 */
export function registerLaunchCommand(program: Command): void {
  const command = program
    .command('launch')
    .description(
      'Launch a catalog model (--model) or any model folder (--model-path, --framework, --served-model-name) and return at once',
    );
  // --system/--partition/--account/--reservation are global options (they also set defaults).
  addSchemaOptions(command, LAUNCH_SHAPE, ['system', 'partition', 'account', 'reservation']);
  command.action(async (options: Record<string, unknown>) =>
    runCommand(program, async (tools, global) => {
      const args = { ...schemaArguments(options, LAUNCH_SHAPE), ...launchDefaults(global) };
      const { structured } = await tools.call<LaunchResultView>('launch', args);
      if (global.json) printJson({ job_id: structured.job_ids[0] ?? null, ...structured });
      else printOut(describeForPerson(structured));
    }),
  );
}

/** The global --system/--partition/--account/--reservation flags, as launch arguments. */
export function launchDefaults(global: GlobalOptions): Record<string, string> {
  const args: Record<string, string> = {};
  for (const key of ['system', 'partition', 'account', 'reservation'] as const) {
    if (global[key] !== undefined) args[key] = global[key];
  }
  return args;
}

function describeForPerson(result: LaunchResultView): string {
  if (result.dry_run) {
    return [
      `Dry run on ${result.system}: nothing submitted.`,
      `Served model name: ${result.served_model_name}`,
      ...(result.review ? describeReview(result.review) : []),
      ...result.warnings.map((w) => `Warning: ${w}`),
    ].join('\n');
  }
  const head = result.job_ids[0]!;
  const lines =
    result.job_ids.length > 1
      ? [
          `Submitted a consecutive chain of ${result.job_ids.length} jobs:`,
          ...result.schedule.map((s) => `  Job ${s.job_id} ${s.runs}`),
          `Served model name: ${result.served_model_name}`,
          `Logs (first job): ~/.sml/logs/${head}`,
        ]
      : [
          `Job submitted: ${head}`,
          `Served model name: ${result.served_model_name}`,
          `Logs: ~/.sml/logs/${head}`,
        ];
  lines.push(`Follow: sml-mcp status ${head} --wait serving   then   sml-mcp logs ${head} -f`);
  if (result.replayed)
    lines.push('(idempotency key seen before: this is the earlier launch; nothing new was submitted)');
  for (const warning of result.warnings) lines.push(`Warning: ${warning}`);
  return lines.join('\n');
}
