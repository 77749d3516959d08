#!/usr/bin/env node
import { Command } from 'commander';
import { errorText, toSmlError } from '../src/errors.js';
import { registerCancelCommand } from './commands/cancel.js';
import { registerCatalogCommands } from './commands/catalog.js';
import { registerConfigCommand } from './commands/config.js';
import { registerInitCommand } from './commands/init.js';
import { registerLaunchCommand } from './commands/launch.js';
import { registerLoadtestCommand } from './commands/loadtest.js';
import { registerLogsCommand } from './commands/logs.js';
import { registerRenderCommand } from './commands/render.js';
import { registerServeCommand } from './commands/serve.js';
import { registerShellCommand } from './commands/shell.js';
import { registerSizeCommand } from './commands/size.js';
import { isSmlCommand, runSmlCommand } from './commands/sml.js';
import { isSmlLoadtestCommand, runSmlLoadtest } from './commands/sml-loadtest.js';
import { registerStatusCommand } from './commands/status.js';
import { registerTopCommand } from './commands/top.js';
import { PACKAGE_VERSION } from './server.js';

/**
 * `sml-mcp`: `serve` runs the MCP server; every other subcommand calls the tool of the same name
 * through an in-process MCP client and prints it for a person (or raw with --json).
 */
const program = new Command()
  .name('sml-mcp')
  .description('Size, launch, watch and stop LLM inference deployments (sglang, vLLM) on SLURM clusters')
  .version(PACKAGE_VERSION)
  .option('--system <name>', 'system (cluster profile) to use; over SML_SYSTEM and the config file')
  .option('--partition <name>', 'SLURM partition; over SML_PARTITION')
  .option('--account <name>', 'SLURM account; over SML_ACCOUNT')
  .option('--reservation <name>', 'SLURM reservation; over SML_RESERVATION')
  .option('--config-path <path>', 'config file (default $SML_CONFIG_DIR/mcp.json or ~/.sml/mcp.json)')
  .option('--json', 'print the raw structured result as JSON')
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (text, write) => write(text) });

registerServeCommand(program);
registerInitCommand(program);
registerLaunchCommand(program);
registerRenderCommand(program);
registerStatusCommand(program);
registerTopCommand(program);
registerLogsCommand(program);
registerLoadtestCommand(program);
registerCancelCommand(program);
registerShellCommand(program);
registerSizeCommand(program);
registerCatalogCommands(program);
registerConfigCommand(program);

program.addHelpText(
  'after',
  `
SML's launch commands (flags as in SML, read as its argparse reads them; run \`sml-mcp advanced --help\`):
  advanced [SML advanced flags]        launch any model, environment and engine arguments; --output-script DIR renders only
  preconfigured [SML preconfigured flags]  launch a catalog model with its tuned settings
So \`alias sml=sml-mcp\` runs SML users' scripts.`,
);

try {
  // SML's commands take argparse-style flags (prefix abbreviations, values starting with '-'), which
  // commander would read differently: they are parsed by server/commands/argparse.ts instead.
  const command = process.argv[2];
  const subcommand = process.argv[3];
  if (isSmlCommand(command)) process.exitCode = await runSmlCommand(command, process.argv.slice(3));
  else if (command === 'loadtest' && isSmlLoadtestCommand(subcommand))
    process.exitCode = await runSmlLoadtest(subcommand, process.argv.slice(4));
  else await program.parseAsync(process.argv);
} catch (error) {
  // Commands report their own failures; this catches the rest (a bad config file…) without a stack.
  process.stderr.write(`sml-mcp: ${errorText(toSmlError(error))}\n`);
  process.exitCode = 2;
}
