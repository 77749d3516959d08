import { SmlError } from '../errors.js';

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
    'sml-mcp assigns the engine port itself (8080, or 8080+slot when several replicas share a node) so the router, the health checker and the endpoints know it',
  '--model': 'the model is given by the model (catalog id) or model_path field',
  '--model-path': 'the model is given by the model (catalog id) or model_path field',
};

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
