import type { Command } from 'commander';
import type { ResolvedConfig } from '../../src/config/load.js';
import { describeSlurmSettings } from '../../src/domain/slurm-settings.js';
import type { LaunchResultView } from '../../src/jobs/types.js';
import { describeReview, launchTool } from '../../tools/launch.js';
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
  // --system/--partition/--account/--reservation are global options: they reach the launch as
  // configured defaults (source "flag"), resolved with SML_* and the config file in one place.
  addSchemaOptions(command, LAUNCH_SHAPE, ['system', 'partition', 'account', 'reservation']);
  command.action(async (options: Record<string, unknown>) =>
    runCommand(program, async (tools, global) => {
      const args = schemaArguments(options, LAUNCH_SHAPE);
      const { structured } = await tools.call<LaunchResultView>('launch', args);
      if (global.json) printJson({ job_id: structured.job_ids[0] ?? null, ...structured });
      else printOut(describeForPerson(structured, tools.config));
    }),
  );
}

function describeForPerson(result: LaunchResultView, config: ResolvedConfig): string {
  if (result.dry_run) {
    return [
      `Dry run on ${result.system}: nothing submitted.`,
      `Served model name: ${result.served_model_name}`,
      ...describeSlurmSettings(result.slurm_settings),
      ...(result.review ? describeReview(result.review) : []),
      ...result.warnings.map((w) => `Warning: ${w}`),
    ].join('\n');
  }
  const head = result.job_ids[0]!;
  const lines = smlSubmissionLines(result, config);
  lines.push(...describeSlurmSettings(result.slurm_settings), `Telemetry: ${result.telemetry.note}`);
  lines.push(`Follow: sml-mcp status ${head} --wait serving   then   sml-mcp logs ${head} -f`);
  if (result.replayed)
    lines.push('(idempotency key seen before: this is the earlier launch; nothing new was submitted)');
  for (const warning of result.warnings) lines.push(`Warning: ${warning}`);
  return lines.join('\n');
}

/**
 * SML's stdout lines (its section 1.5, parsed by SML users' scripts): `Job submitted: <id>`,
 * `Served model name: …`, `Logs: …`, `Tail: …`, or for a chain `Submitted a consecutive chain of
 * N jobs:` with one `  Job <id> …` line each, then `Served model name:` and `Logs (first job):`.
 */
export function smlSubmissionLines(result: LaunchResultView, config: ResolvedConfig): string[] {
  const head = result.job_ids[0]!;
  const logs = `~/.sml/logs/${head}`;
  if (result.job_ids.length > 1) {
    return [
      `Submitted a consecutive chain of ${result.job_ids.length} jobs:`,
      ...result.schedule.map((s) => `  Job ${s.job_id} ${s.runs}`),
      `Served model name: ${result.served_model_name}`,
      `Logs (first job): ${logs}`,
    ];
  }
  return [
    `Job submitted: ${head}`,
    `Served model name: ${result.served_model_name}`,
    `Logs: ${logs}`,
    `Tail: ${tailHint(result.system, `${logs}/log.out`, config)}`,
  ];
}

/** How to follow the master log by hand, as SML prints it. */
function tailHint(systemName: string, path: string, config: ResolvedConfig): string {
  const connection = config.systems.find((s) => s.name === systemName)?.scheduler;
  if (connection?.kind === 'ssh') return `ssh ${connection.host} tail -f ${path}`;
  if (connection?.kind === 'firecrest')
    return `ssh <host> tail -f ${path} (replace <host> with your cluster SSH alias)`;
  return `tail -f ${path}`;
}
