import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeSlurmSettings } from '../../src/domain/slurm-settings.js';
import { SmlError } from '../../src/errors.js';
import type { LaunchResultView } from '../../src/jobs/types.js';
import { launchTool } from '../../tools/launch.js';
import type { ToolCaller } from './context.js';
import { addSchemaOptions, schemaArguments } from './flags.js';
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
    .requiredOption('--out <dir>', 'Folder to write the scripts into (created if missing)')
    .option('--force', 'overwrite scripts already in the folder that differ from the new ones');
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
      const args = { ...schemaArguments(options, SHAPE), dry_run: true };
      const { structured } = await tools.call<LaunchResultView>('launch', args);
      const { dir, names } = await writeRenderedScripts(
        tools,
        structured,
        String(options.out),
        options.force === true,
      );
      for (const line of describeSlurmSettings(structured.slurm_settings)) printErr(line);
      for (const warning of structured.warnings) printErr(`warning: ${warning}`);
      if (global.json) printJson({ out: dir, files: names, served_model_name: structured.served_model_name });
      else printOut([`Wrote ${names.length} file(s) to ${dir}:`, ...names.map((n) => `  ${n}`)].join('\n'));
    }),
  );
}

/** Fetch a dry run's rendered scripts and write them into `dir`, master.sh first; their names. */
export async function writeRenderedScripts(
  tools: ToolCaller,
  result: LaunchResultView,
  out: string,
  isForced: boolean,
): Promise<{ dir: string; names: string[] }> {
  const dir = resolve(out);
  // master.sh first: it is what would be submitted; the rest is what it extracts.
  const links = [...(result.review?.scripts ?? [])].sort(
    (a, b) => Number(b.name === 'master.sh') - Number(a.name === 'master.sh') || a.name.localeCompare(b.name),
  );
  const names = links.map((link) => link.name);
  const texts = await Promise.all(links.map((link) => tools.read(link.uri)));
  await writeScripts(
    dir,
    names.map((name, i) => [name, texts[i]!] as const),
    isForced,
  );
  return { dir, names };
}

/**
 * Write the scripts into `dir`, never through a symlink, and never over a different file unless
 * `isForced`; every refusal is a clear error before anything is written.
 */
async function writeScripts(
  dir: string,
  scripts: readonly (readonly [string, string])[],
  isForced: boolean,
): Promise<void> {
  await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw outError(dir, error);
  });
  const different: string[] = [];
  for (const [name, text] of scripts) {
    const path = join(dir, name);
    const info = await lstat(path).catch(() => undefined);
    if (!info) continue;
    if (info.isSymbolicLink()) throw symlinkRefused(path);
    if (!info.isFile()) {
      throw new SmlError('INVALID_ARGUMENT', `${path} exists and is not a file.`, {
        hint: 'Choose another --out folder.',
      });
    }
    if ((await readFile(path, 'utf8')) !== text) different.push(name);
  }
  if (different.length > 0 && !isForced) {
    throw new SmlError('CONFLICT', `${dir} already holds other ${different.join(', ')}.`, {
      hint: 'Pass --force to overwrite them, or choose another --out folder.',
    });
  }
  for (const [name, text] of scripts) {
    const path = join(dir, name);
    try {
      // O_NOFOLLOW: a symlink put there since the check above still fails instead of being followed.
      const handle = await open(
        path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
        0o755,
      );
      try {
        await handle.writeFile(text);
      } finally {
        await handle.close();
      }
      await chmod(path, 0o755);
    } catch (error) {
      throw outError(path, error as NodeJS.ErrnoException);
    }
  }
}

function outError(path: string, error: NodeJS.ErrnoException): SmlError {
  if (error.code === 'ENOTDIR' || error.code === 'EEXIST') {
    return new SmlError('INVALID_ARGUMENT', `--out ${path}: a file is in the way of the folder.`, {
      hint: 'Give a folder (new or existing) for --out.',
      cause: error,
    });
  }
  if (error.code === 'EACCES' || error.code === 'EPERM' || error.code === 'EROFS') {
    return new SmlError('PERMISSION_DENIED', `Cannot write ${path} (${error.code}).`, {
      hint: 'Choose an --out folder you can write to.',
      cause: error,
    });
  }
  if (error.code === 'ELOOP') return symlinkRefused(path);
  return new SmlError('INTERNAL', `Cannot write ${path}: ${error.message}.`, { cause: error });
}

function symlinkRefused(path: string): SmlError {
  return new SmlError('INVALID_ARGUMENT', `${path} is a symbolic link; render never writes through one.`, {
    hint: 'Remove the link, or choose another --out folder.',
  });
}
