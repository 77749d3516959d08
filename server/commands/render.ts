import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { LaunchResultView } from '../../src/jobs/types.js';
import { launchTool } from '../../tools/launch.js';
import { addSchemaOptions, schemaArguments } from './flags.js';
import { launchDefaults } from './launch.js';
import { printErr, printJson, printOut } from './print.js';
import { runCommand } from './run.js';

const SHAPE = launchTool.input.shape;

/**
 * `sml-mcp render --out DIR …`: the launch tool's dry run, written to a folder (SML's
 * --output-script). master.sh is what would be submitted; the rank scripts are what it extracts.
 */
export function registerRenderCommand(program: Command): void {
  const command = program
    .command('render')
    .description("Render a launch's job scripts into a folder without submitting (a dry run of launch)")
    .requiredOption('--out <dir>', 'Folder to write the scripts into (created if missing)');
  addSchemaOptions(command, SHAPE, [
    'system',
    'partition',
    'account',
    'reservation',
    'dry_run',
    'idempotency_key',
  ]);
  command.action(async (options: Record<string, unknown>) =>
    runCommand(program, async (tools, global) => {
      const args = { ...schemaArguments(options, SHAPE), ...launchDefaults(global), dry_run: true };
      const { structured } = await tools.call<LaunchResultView>('launch', args);
      const dir = resolve(String(options.out));
      await mkdir(dir, { recursive: true });
      // master.sh first: it is what would be submitted; the rest is what it extracts.
      const names = Object.keys(structured.scripts ?? {}).sort(
        (a, b) => Number(b === 'master.sh') - Number(a === 'master.sh') || a.localeCompare(b),
      );
      for (const name of names) {
        const path = join(dir, name);
        await writeFile(path, structured.scripts![name]!);
        await chmod(path, 0o755);
      }
      for (const warning of structured.warnings) printErr(`warning: ${warning}`);
      if (global.json) printJson({ out: dir, files: names, served_model_name: structured.served_model_name });
      else printOut([`Wrote ${names.length} file(s) to ${dir}:`, ...names.map((n) => `  ${n}`)].join('\n'));
    }),
  );
}
