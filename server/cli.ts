#!/usr/bin/env node
import { Command } from 'commander';
import { errorText, toSmlError } from '../src/errors.js';
import { PACKAGE_VERSION } from '../src/version.js';

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

program.addHelpText(
  'after',
  `
SML's launch commands (flags as in SML, read as its argparse reads them; run \`sml-mcp advanced --help\`):
  advanced [SML advanced flags]        launch any model, environment and engine arguments; --output-script DIR renders only
  preconfigured [SML preconfigured flags]  launch a catalog model with its tuned settings
So \`alias sml=sml-mcp\` runs SML users' scripts.`,
);

/**
 * Subcommands are registered lazily: the one being run (or asked for with --help) is loaded with
 * its options; the others appear in the help as name and summary only. `sml-mcp --help` and
 * `--version` so load no tool, schema or server code.
 */
type Register = (program: Command) => unknown;
interface Subcommand {
  /** As `program.command()` takes it: name and arguments. */
  usage: string;
  summary: string;
  load(): Promise<Register>;
}

const SUBCOMMANDS: Subcommand[] = [
  {
    usage: 'serve',
    summary: 'Run the MCP server over stdio (default) or Streamable HTTP',
    load: async () => (await import('./commands/serve.js')).registerServeCommand,
  },
  {
    usage: 'init',
    summary: 'Set up sml-mcp: cluster access, credentials and launch defaults',
    load: async () => (await import('./commands/init.js')).registerInitCommand,
  },
  {
    usage: 'launch',
    summary: 'Launch a catalog model or any model folder; returns at once',
    load: async () => (await import('./commands/launch.js')).registerLaunchCommand,
  },
  {
    usage: 'render',
    summary: "Write a launch's job scripts into a folder without submitting",
    load: async () => (await import('./commands/render.js')).registerRenderCommand,
  },
  {
    usage: 'status [jobs...]',
    summary: 'State of your deployments; --wait until running, serving or ended',
    load: async () => (await import('./commands/status.js')).registerStatusCommand,
  },
  {
    usage: 'top [jobs...]',
    summary: 'Live table of your deployments',
    load: async () => (await import('./commands/top.js')).registerTopCommand,
  },
  {
    usage: 'logs <job>',
    summary: 'Print a log file of a job; -f follows it',
    load: async () => (await import('./commands/logs.js')).registerLogsCommand,
  },
  {
    usage: 'loadtest',
    summary: 'Load-test a serving deployment and read the results',
    load: async () => (await import('./commands/loadtest.js')).registerLoadtestCommand,
  },
  {
    usage: 'cancel <job>',
    summary: 'Stop a deployment (every job of its chain)',
    load: async () => (await import('./commands/cancel.js')).registerCancelCommand,
  },
  {
    usage: 'shell <job>',
    summary: 'Interactive shell on a node of a running job',
    load: async () => (await import('./commands/shell.js')).registerShellCommand,
  },
  {
    usage: 'size <model>',
    summary: 'GPUs and parallel layout a model needs',
    load: async () => (await import('./commands/size.js')).registerSizeCommand,
  },
  {
    usage: 'models',
    summary: 'List the model catalog',
    load: async () => (await import('./commands/catalog.js')).registerCatalogCommands,
  },
  {
    usage: 'systems',
    summary: 'List the systems (clusters), with partitions and reservations',
    load: async () => (await import('./commands/catalog.js')).registerCatalogCommands,
  },
  {
    usage: 'config',
    summary: 'Inspect the sml-mcp configuration',
    load: async () => (await import('./commands/config.js')).registerConfigCommand,
  },
];

/** Global options that take a value: the word after them is not the subcommand. */
const VALUE_OPTIONS = new Set(['--system', '--partition', '--account', '--reservation', '--config-path']);

/** The subcommand argv names (`help launch` names launch), if any. */
function wantedSubcommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (VALUE_OPTIONS.has(word)) i++;
    else if (!word.startsWith('-')) return word === 'help' ? args[i + 1] : word;
  }
  return undefined;
}

async function registerSubcommands(program: Command, args: readonly string[]): Promise<void> {
  const wanted = SUBCOMMANDS.find((subcommand) => nameOf(subcommand) === wantedSubcommand(args));
  // The wanted module first: it may register a sibling too (catalog.ts: models and systems).
  if (wanted) (await wanted.load())(program);
  for (const subcommand of SUBCOMMANDS) {
    const isRegistered = program.commands.some((command) => command.name() === nameOf(subcommand));
    if (!isRegistered) program.command(subcommand.usage).summary(subcommand.summary);
  }
}

function nameOf(subcommand: Subcommand): string {
  return subcommand.usage.split(' ')[0]!;
}

await registerSubcommands(program, process.argv.slice(2));

try {
  // SML's commands take argparse-style flags (prefix abbreviations, values starting with '-'), which
  // commander would read differently: they are parsed by server/commands/argparse.ts instead.
  const command = process.argv[2];
  const subcommand = process.argv[3];
  if (command === 'advanced' || command === 'preconfigured') {
    const { runSmlCommand } = await import('./commands/sml.js');
    process.exitCode = await runSmlCommand(command, process.argv.slice(3));
  } else if (command === 'loadtest' && ['preconfigured', 'advanced', 'run'].includes(subcommand ?? '')) {
    const { isSmlLoadtestCommand, runSmlLoadtest } = await import('./commands/sml-loadtest.js');
    if (isSmlLoadtestCommand(subcommand))
      process.exitCode = await runSmlLoadtest(subcommand, process.argv.slice(4));
  } else {
    await program.parseAsync(process.argv);
  }
} catch (error) {
  // Commands report their own failures; this catches the rest (a bad config file…) without a stack.
  process.stderr.write(`sml-mcp: ${errorText(toSmlError(error))}\n`);
  process.exitCode = 2;
}
