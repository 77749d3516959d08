import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { assetPath } from '../../src/assets.js';
import { SmlError, toSmlError } from '../../src/errors.js';
import type { LaunchResultView } from '../../src/jobs/types.js';
import {
  ArgparseError,
  type ArgSpec,
  formatHelp,
  type ParsedValues,
  type ParseResult,
  parseArgs,
} from './argparse.js';
import { isTerminal, TerminalAsker } from './asker.js';
import { openToolCaller, type ToolCaller, ToolError } from './context.js';
import { smlSubmissionLines } from './launch.js';
import { EXIT, printErr, printOut } from './print.js';
import { writeRenderedScripts } from './render.js';
import { askPreconfigured } from './sml-ask.js';

/**
 * `sml-mcp advanced …` and `sml-mcp preconfigured …`: SML's two launch commands with SML's flags,
 * read as SML's argparse reads them (server/commands/argparse.ts), SML's defaults and SML's stdout
 * lines, so `alias sml=sml-mcp` runs an SML user's scripts. They call the same launch tool as
 * everything else; what differs from SML is said on stderr as a warning.
 */

const SYSTEM_FLAGS: ArgSpec[] = [
  {
    flag: '--system',
    kind: 'value',
    help: 'System (cluster profile); default SML_SYSTEM or the config file',
  },
  { flag: '--partition', kind: 'value', help: 'SLURM partition; default SML_PARTITION, config file, system' },
  { flag: '--reservation', kind: 'value', help: 'SLURM reservation; default SML_RESERVATION or none' },
  { flag: '--account', kind: 'value', help: 'SLURM account; default SML_ACCOUNT, config file, your default' },
];

const REPLICAS: ArgSpec = {
  flag: '--replicas',
  kind: 'value',
  type: 'int',
  default: 1,
  help: 'Independent copies of the model',
};

const ROUTER: ArgSpec = {
  flag: '--router',
  kind: 'value',
  type: 'lower',
  choices: ['opentela', 'sglang'],
  default: 'opentela',
  help: 'How replicas are fronted (sglang needs 2+ replicas)',
};

const TUI: ArgSpec = {
  flag: '--tui',
  kind: 'toggle',
  help: 'Accepted for SML scripts; sml-mcp has no TUI (follow with `sml-mcp status JOB --wait serving` and `sml-mcp logs JOB -f`)',
};

const TELEMETRY: ArgSpec = {
  flag: '--telemetry',
  kind: 'toggle',
  help: "Post SML's launch record to the system's telemetry endpoint (default on for the CSCS systems, as SML; also SML_TELEMETRY=0 or defaults.telemetry=false)",
};

export const ADVANCED_FLAGS: readonly ArgSpec[] = [
  ...SYSTEM_FLAGS,
  {
    flag: '--framework',
    kind: 'value',
    required: true,
    choices: ['sglang', 'vllm'],
    help: 'Inference engine',
  },
  {
    flag: '--environment',
    kind: 'value',
    required: true,
    metavar: 'PATH',
    help: 'Environment TOML (EDF): a file here, a path on the cluster, or a shipped name (sglang.toml)',
  },
  {
    flag: '--framework-args',
    kind: 'value',
    default: '',
    help: 'Engine arguments, as SML: --model/--model-path name the model (a cluster path or a Hugging Face repo id); $VAR expands on the node',
  },
  REPLICAS,
  { flag: '--nodes-per-replica', kind: 'value', type: 'int', default: 1, help: 'Nodes one replica spans' },
  { flag: '--time', kind: 'value', default: '02:00:00', help: 'Total serving time HH:MM:SS' },
  { flag: '--consecutive', kind: 'switch', help: 'Serve longer than --max-job-time with a chain of jobs' },
  { flag: '--handover-time', kind: 'value', default: '03:00:00', help: 'Overlap of consecutive jobs' },
  { flag: '--max-job-time', kind: 'value', default: '12:00:00', help: 'Wall time of each job of a chain' },
  {
    flag: '--served-model-name',
    kind: 'value',
    help: 'Name clients request (namespaced <user>/…); or --served-model-name inside --framework-args',
  },
  ROUTER,
  { flag: '--router-args', kind: 'value', default: '', help: 'Extra arguments of the sglang router' },
  {
    flag: '--disable-opentela',
    kind: 'switch',
    help: 'Do not register on the OpenTela mesh (private model)',
  },
  {
    flag: '--opentela-bootstrap-addr',
    kind: 'value',
    metavar: 'MULTIADDR',
    help: 'OpenTela peer to join (wins over --dev)',
  },
  { flag: '--dev', kind: 'switch', help: 'Development OpenTela peer and binaries' },
  { flag: '--disable-dcgm-exporter', kind: 'switch', help: 'No DCGM GPU-metrics exporter' },
  { flag: '--disable-metrics', kind: 'switch', help: 'No metrics agent' },
  {
    flag: '--pre-launch-cmds',
    kind: 'value',
    default: '',
    help: 'Shell commands run on every node before the engine',
  },
  TUI,
  TELEMETRY,
  {
    flag: '--output-script',
    kind: 'value',
    metavar: 'DIR',
    help: 'Write master.sh and the rank scripts to DIR and exit without submitting',
  },
];

export const PRECONFIGURED_FLAGS: readonly ArgSpec[] = [
  ...SYSTEM_FLAGS,
  { flag: '--model', kind: 'value', required: true, help: 'Catalog model (sml-mcp models lists them)' },
  {
    flag: '--framework',
    kind: 'value',
    choices: ['sglang', 'vllm'],
    help: "Engine (default: the catalog's)",
  },
  REPLICAS,
  ROUTER,
  { flag: '--time', kind: 'value', default: '03:00:00', help: 'Serving time HH:MM:SS' },
  TUI,
  TELEMETRY,
];

export type SmlCommand = 'advanced' | 'preconfigured';

const DESCRIPTIONS: Record<SmlCommand, string> = {
  advanced: "SML's advanced launch: any model, environment and engine arguments; chains; --output-script.",
  preconfigured: "SML's catalog launch: a model of the catalog with its tuned settings.",
};

/** Run `sml-mcp advanced|preconfigured ARGS…`; returns the exit code. */
export async function runSmlCommand(command: SmlCommand, argv: readonly string[]): Promise<number> {
  const prog = `sml-mcp ${command}`;
  // As SML: on a terminal, preconfigured asks for what its flags leave out instead of failing.
  const isAsking = command === 'preconfigured' && isTerminal();
  const flags = command === 'advanced' ? ADVANCED_FLAGS : preconfiguredFlags(isAsking);
  const parsed = parseOrExplain(argv, flags, prog, DESCRIPTIONS[command]);
  if (typeof parsed === 'number') return parsed;
  const { values, given } = parsed;
  const outputDir = typeof values.output_script === 'string' ? values.output_script : undefined;

  try {
    const tools = await openSmlToolCaller(values);
    try {
      if (isAsking) await askOnTerminal(values, given, tools);
      const warnings: string[] = [];
      const args = launchArgsOf(command, values, warnings);
      if (outputDir !== undefined) args.dry_run = true;
      for (const warning of warnings) printErr(`warning: ${warning}`);
      const { structured } = await tools.call<LaunchResultView>('launch', args);
      for (const warning of structured.warnings) printErr(`warning: ${warning}`);
      printErr(`Telemetry: ${structured.telemetry.note}`);
      if (outputDir !== undefined) {
        // As SML: the folder's scripts are replaced.
        const { dir, names } = await writeRenderedScripts(tools, structured, outputDir, true);
        // As SML: the list of files goes to stderr.
        printErr([`Wrote ${names.length} file(s) to ${dir}:`, ...names.map((n) => `  ${n}`)].join('\n'));
        return EXIT.ok;
      }
      printOut(smlSubmissionLines(structured, tools.config).join('\n'));
      return EXIT.ok;
    } finally {
      await tools.close();
    }
  } catch (error) {
    return reportFailure(error);
  }
}

/** preconfigured's flags; where a person is asked, none is required. */
export function preconfiguredFlags(isAsking: boolean): readonly ArgSpec[] {
  return isAsking ? PRECONFIGURED_FLAGS.map((spec) => ({ ...spec, required: false })) : PRECONFIGURED_FLAGS;
}

/** SML's questions for what the flags of preconfigured left out (server/commands/sml-ask.ts). */
export async function askOnTerminal(values: ParsedValues, given: readonly string[], tools: ToolCaller) {
  const asker = new TerminalAsker();
  try {
    await askPreconfigured(values, given, tools, asker);
  } finally {
    asker.close();
  }
}

/**
 * Parse SML flags as SML's argparse does; `--help` prints the help and a bad command line prints
 * argparse's usage and error. Returns the values and the flags given, or the exit code when there is
 * nothing to run.
 */
export function parseOrExplain(
  argv: readonly string[],
  flags: readonly ArgSpec[],
  prog: string,
  description: string,
  check?: (values: ParsedValues) => void,
): Omit<ParseResult, 'isHelp'> | number {
  try {
    const parsed = parseArgs(argv, flags, prog);
    if (parsed.isHelp) {
      printOut(formatHelp(prog, description, flags));
      return EXIT.ok;
    }
    check?.(parsed.values);
    return parsed;
  } catch (error) {
    if (!(error instanceof ArgparseError)) throw error;
    printErr(`usage: ${prog} [-h] [options]  (${prog} --help lists them)`);
    printErr(`${prog}: error: ${error.message}`);
    if (error.hint) printErr(error.hint);
    return 2;
  }
}

/** The tools, with SML's --system/--partition/--account/--reservation as the defaults. */
export function openSmlToolCaller(values: ParsedValues): Promise<ToolCaller> {
  return openToolCaller({
    system: values.system as string | undefined,
    partition: values.partition as string | undefined,
    account: values.account as string | undefined,
    reservation: values.reservation as string | undefined,
  });
}

/** A failed tool call or cluster step as one line on stderr; the exit code. */
export function reportFailure(error: unknown): number {
  if (error instanceof ToolError) printErr(error.message);
  else {
    const failure = error instanceof SmlError ? error : toSmlError(error);
    printErr(`[${failure.code}] ${failure.userMessage}`);
  }
  return EXIT.error;
}

/** The launch tool's arguments of `sml-mcp advanced|preconfigured` flags (warnings for what differs). */
export function launchArgsOf(
  command: SmlCommand,
  values: ParsedValues,
  warnings: string[],
): Record<string, unknown> {
  const args = command === 'advanced' ? advancedArgs(values, warnings) : preconfiguredArgs(values, warnings);
  if (values.tui === true) {
    warnings.push(
      '--tui: sml-mcp has no TUI; follow the job with `sml-mcp status JOB --wait serving` and `sml-mcp logs JOB -f`.',
    );
  }
  if (values.telemetry === false) args.disable_telemetry = true;
  return args;
}

function advancedArgs(values: ParsedValues, warnings: string[]): Record<string, unknown> {
  const replicas = values.replicas as number;
  const args: Record<string, unknown> = {
    framework: values.framework,
    environment: smlEnvironment(String(values.environment), warnings),
    replicas,
    nodes_per_replica: values.nodes_per_replica,
    time: values.time,
    consecutive: values.consecutive === true,
    handover_time: values.handover_time,
    max_job_time: values.max_job_time,
    router: routerFor(values, replicas, warnings),
    disable_opentela: values.disable_opentela === true,
    dev: values.dev === true,
    disable_dcgm_exporter: values.disable_dcgm_exporter === true,
    disable_metrics: values.disable_metrics === true,
  };
  const text = (key: string) =>
    typeof values[key] === 'string' && values[key] !== '' ? values[key] : undefined;
  for (const [field, key] of [
    ['framework_args', 'framework_args'],
    ['served_model_name', 'served_model_name'],
    ['router_args', 'router_args'],
    ['opentela_bootstrap_addr', 'opentela_bootstrap_addr'],
    ['pre_launch_cmds', 'pre_launch_cmds'],
  ] as const) {
    if (text(key) !== undefined) args[field] = text(key);
  }
  if (args.router !== 'sglang') delete args.router_args;
  return args;
}

function preconfiguredArgs(values: ParsedValues, warnings: string[]): Record<string, unknown> {
  const replicas = values.replicas as number;
  return {
    model: values.model,
    // A system asked on the terminal (one given as a flag is the tools' default already).
    ...(values.system ? { system: values.system } : {}),
    ...(values.framework ? { framework: values.framework } : {}),
    replicas,
    router: routerFor(values, replicas, warnings),
    time: values.time,
  };
}

/** SML drops the sglang router for a single replica without a word; sml-mcp says so. */
function routerFor(values: ParsedValues, replicas: number, warnings: string[]): string {
  if (values.router === 'sglang' && replicas < 2) {
    warnings.push('--router sglang ignored: it balances several replicas and --replicas is 1 (as SML does).');
    return 'opentela';
  }
  return String(values.router);
}

/**
 * SML's examples name environments by their path in SML's repository
 * (`src/swiss_ai_model_launch/assets/envs/sglang.toml`) and must run from its root; sml-mcp
 * ships the same files, so such a path that does not exist here means the shipped file.
 */
function smlEnvironment(path: string, warnings: string[]): string {
  if (existsSync(path) || path.startsWith('/')) return path;
  const name = basename(path);
  if (/(^|\/)assets\/envs\/[^/]+\.toml$/.test(path) && existsSync(assetPath('envs', name))) {
    warnings.push(`--environment ${path} is not here; using the shipped ${name} (the same file as in SML).`);
    return name;
  }
  return path;
}
