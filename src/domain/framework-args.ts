import { SmlError } from '../errors.js';
import { findShellSubstitution } from '../shell.js';

/**
 * Framework args arrive as one string (as a person types them) or as an argv array (as an agent
 * sends them). The string is split with shell word rules — whitespace separates words, single
 * quotes are literal, double quotes allow \" \\ \$ \` escapes, a backslash escapes the next
 * character — and nothing is expanded: `$VAR`, `$(…)`, backticks, globs and `#` stay literal.
 */
export function splitShellWords(text: string, field = 'framework_args'): string[] {
  const words: string[] = [];
  let current = '';
  let isInWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else current += ch;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) {
        i++;
        if (text[i] !== '\n') current += text[i];
      } else current += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      isInWord = true;
    } else if (ch === '\\') {
      if (i + 1 >= text.length) {
        throw new SmlError(
          'INVALID_ARGUMENT',
          `${field} ends with a lone backslash: ${JSON.stringify(text)}.`,
          {
            hint: 'Remove the trailing backslash or quote it.',
          },
        );
      }
      i++;
      // Backslash-newline is a line continuation, as in a shell.
      if (text[i] !== '\n') {
        current += text[i];
        isInWord = true;
      }
    } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      if (isInWord) words.push(current);
      current = '';
      isInWord = false;
    } else {
      current += ch;
      isInWord = true;
    }
  }
  if (quote) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `${field} has an unterminated ${quote} quote: ${JSON.stringify(text)}.`,
      {
        hint: 'Close the quote, or pass the arguments as an array of strings.',
      },
    );
  }
  if (isInWord) words.push(current);
  return words;
}

/** Framework args as argv: a string is split with shell word rules, an array is taken as is. */
export function toArgv(value: string | readonly string[] | undefined, field = 'framework_args'): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? splitShellWords(value, field) : [...value];
}

/** The option name of a token (`--port=1` → `--port`), or undefined for a non-option. */
function optionName(token: string): string | undefined {
  if (!token.startsWith('--')) return undefined;
  const eq = token.indexOf('=');
  return eq === -1 ? token : token.slice(0, eq);
}

export function hasOption(argv: readonly string[], name: string): boolean {
  return argv.some((token) => optionName(token) === name);
}

/**
 * Options sml-mcp sets itself. The engine port is refused rather than silently overridden: it is
 * 8080 (or 8080+slot when replicas share a node) and endpoints, router and health checks rely on it.
 */
const MANAGED_OPTIONS: Record<string, string> = {
  '--port':
    'sml-mcp assigns the engine port itself (8080, or 8080+slot when several replicas share a node) so the router, the health checker and the endpoints know it; only --port 8080 is accepted, and only when replicas do not share a node',
  '--model': 'the model is given by the model (catalog id) or model_path field',
  '--model-path': 'the model is given by the model (catalog id) or model_path field',
};

/** The value of `--name value` / `--name=value` at `i`, and how many tokens it spans. */
function optionValueAt(argv: readonly string[], i: number): { value: string | undefined; span: number } {
  const token = argv[i]!;
  const eq = token.indexOf('=');
  if (eq !== -1) return { value: token.slice(eq + 1), span: 1 };
  const next = argv[i + 1];
  return next === undefined || next.startsWith('--')
    ? { value: undefined, span: 1 }
    : { value: next, span: 2 };
}

export interface SmlEngineOptions {
  /** The arguments without the options taken out. */
  argv: string[];
  /** The model named in the arguments (`--model`, `--model-path`, or vLLM's positional model). */
  model?: string;
  warnings: string[];
}

/**
 * SML passes framework args to the engine verbatim, so its users name the model there
 * (`--model X`, `--model-path X`, `vllm serve X`) and often repeat `--port 8080`. Take those out
 * as SML understands them: the model becomes the launch's model, `--port` equal to the engine
 * port is dropped with SML's warning (any other port stays and is refused later).
 */
export function takeSmlEngineOptions(
  argv: readonly string[],
  framework: 'sglang' | 'vllm',
  enginePort: number | undefined,
): SmlEngineOptions {
  const rest: string[] = [];
  const warnings: string[] = [];
  let model: string | undefined;
  const setModel = (value: string, how: string) => {
    if (model !== undefined && model !== value) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `framework_args name two models: '${model}' and '${value}' (${how}).`,
        {
          hint: 'Name the model once.',
        },
      );
    }
    model = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const name = optionName(token);
    if (i === 0 && framework === 'vllm' && name === undefined && !token.startsWith('-')) {
      setModel(token, 'vllm serve MODEL');
      continue;
    }
    if (name === '--model' || name === '--model-path') {
      const { value, span } = optionValueAt(argv, i);
      if (value === undefined || value === '') {
        throw new SmlError('INVALID_ARGUMENT', `framework_args has ${name} without a value.`, {
          hint: `Write ${name} <path or Hugging Face repo id>.`,
        });
      }
      setModel(value, name);
      i += span - 1;
      continue;
    }
    if (name === '--port' && enginePort !== undefined) {
      const { value, span } = optionValueAt(argv, i);
      if (value === String(enginePort)) {
        warnings.push(
          `framework_args sets --port ${value}, the port sml-mcp gives the engine anyway; the duplicate is dropped.`,
        );
        i += span - 1;
        continue;
      }
    }
    rest.push(token);
  }
  return { argv: rest, model, warnings };
}

const MULTI_NODE_OPTIONS: Record<string, string> = {
  '--nnodes': 'sml-mcp sets the node count from nodes_per_replica',
  '--node-rank': 'sml-mcp sets each node rank',
  '--dist-init-addr': 'sml-mcp sets the rendezvous address to the replica head',
  '--distributed-executor-backend': 'sml-mcp runs multi-node vLLM on Ray',
};

/** Refuse options sml-mcp manages, with the reason and the next step. */
export function assertNoManagedOptions(argv: readonly string[], nodesPerReplica: number): void {
  for (const token of argv) {
    const name = optionName(token);
    if (name === undefined) continue;
    const reason = MANAGED_OPTIONS[name] ?? (nodesPerReplica > 1 ? MULTI_NODE_OPTIONS[name] : undefined);
    if (reason) {
      throw new SmlError('INVALID_ARGUMENT', `framework_args contains ${name} ('${token}'): ${reason}.`, {
        hint: `Remove ${name} from framework_args.`,
        details: { option: name },
      });
    }
  }
}

/** Refuse `$(…)`, backticks and `${…}` forms other than `${NAME}` in values expanded at run time. */
export function assertRunTimeVariablesOnly(values: readonly string[], field: string): void {
  for (const value of values) {
    const problem = findShellSubstitution(value);
    if (problem) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `${field} contains ${problem.found} (in '${value}'): commands are never run from engine arguments or environment values.`,
        {
          hint: `Use ${problem.suggestion} instead: $NAME and \${NAME} are expanded from the job's environment when the engine starts.`,
          details: { field },
        },
      );
    }
  }
}
