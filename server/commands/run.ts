import type { Command } from 'commander';
import { SmlError, toSmlError } from '../../src/errors.js';
import type { GlobalOptions } from './context.js';
import { ToolError } from './context.js';
import { EXIT, printErr } from './print.js';

/**
 * Run a subcommand body with the global options; a number it returns is the exit code. Any failure
 * becomes one clear line on stderr and exit code 1, never a stack trace.
 */
export async function runCommand(
  program: Command,
  body: (global: GlobalOptions) => Promise<unknown>,
): Promise<void> {
  const global = program.opts<GlobalOptions>();
  try {
    const code = await body(global);
    process.exitCode = typeof code === 'number' ? code : EXIT.ok;
  } catch (error) {
    if (error instanceof ToolError) printErr(error.message);
    else {
      const failure = error instanceof SmlError ? error : toSmlError(error);
      printErr(`[${failure.code}] ${failure.userMessage}`);
    }
    process.exitCode = EXIT.error;
  }
}
