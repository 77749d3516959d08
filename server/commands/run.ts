import type { Command } from 'commander';
import { errorText, toSmlError } from '../../src/errors.js';
import { type GlobalOptions, openToolCaller, type ToolCaller, ToolError } from './context.js';
import { EXIT, printErr } from './print.js';

/**
 * Run a subcommand body with an in-process client to the tools and the global options; a number it
 * returns is the exit code. Any failure becomes one clear line on stderr and exit code 1, never a
 * stack trace.
 */
export async function runCommand(
  program: Command,
  body: (tools: ToolCaller, global: GlobalOptions) => Promise<unknown>,
): Promise<void> {
  const global = program.opts<GlobalOptions>();
  try {
    const tools = await openToolCaller(global);
    try {
      const code = await body(tools, global);
      process.exitCode = typeof code === 'number' ? code : EXIT.ok;
    } finally {
      await tools.close();
    }
  } catch (error) {
    if (error instanceof ToolError) printErr(error.message);
    else {
      printErr(errorText(toSmlError(error)));
    }
    process.exitCode = EXIT.error;
  }
}
