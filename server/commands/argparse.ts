/**
 * A command-line parser that reads options as Python's argparse does (SML's CLI is argparse), so
 * SML users' scripts run unchanged: `--opt value` and `--opt=value`, unambiguous prefix
 * abbreviations (`--nodes` → `--nodes-per-replica`; an ambiguous prefix is an error naming the
 * candidates), `--flag/--no-flag` pairs, int and choice checks, the last repeat wins, and a value
 * that starts with `-` is taken only when it contains a space or is a negative number (as argparse).
 * Errors read as argparse's (`<prog>: error: …`, exit code 2) plus a hint.
 *
 * Used by `sml-mcp advanced|preconfigured` (server/commands/sml.ts) and reusable for any other
 * SML-compatible command: declare `ArgSpec`s, call `parseArgs`, read `values` by `dest`.
 */

export interface ArgSpec {
  /** Long option, e.g. `--nodes-per-replica`. */
  flag: string;
  /** `value`: takes one argument; `switch`: store_true; `toggle`: `--x` / `--no-x` (BooleanOptionalAction). */
  kind: 'value' | 'switch' | 'toggle';
  /** Key in `values` (default: the flag without dashes, `-` → `_`). */
  dest?: string;
  /** Value conversion (value options): argparse's `type=int`, or `lower` (`type=str.lower`). */
  type?: 'string' | 'int' | 'lower';
  choices?: readonly string[];
  default?: string | number | boolean;
  required?: boolean;
  /** Shown in `--help`. */
  help: string;
  metavar?: string;
  /** Extra option strings of the same argument (e.g. `-V`). */
  aliases?: readonly string[];
}

export type ParsedValues = Record<string, string | number | boolean | undefined>;

export class ArgparseError extends Error {
  constructor(
    readonly prog: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** `--nodes-per-replica` → `nodes_per_replica`. */
export function destOf(spec: ArgSpec): string {
  return spec.dest ?? spec.flag.replace(/^-+/, '').replaceAll('-', '_');
}

interface OptionString {
  text: string;
  spec: ArgSpec;
  /** For toggles: the `--no-x` form. */
  isNegated: boolean;
}

function optionStrings(specs: readonly ArgSpec[]): OptionString[] {
  const strings: OptionString[] = [];
  for (const spec of specs) {
    for (const text of [spec.flag, ...(spec.aliases ?? [])]) strings.push({ text, spec, isNegated: false });
    if (spec.kind === 'toggle') {
      strings.push({ text: spec.flag.replace(/^--/, '--no-'), spec, isNegated: true });
    }
  }
  return strings;
}

const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;

/**
 * What argparse makes of one word: an option (exact, or the one option it abbreviates), an
 * unknown option, or a plain value. Ambiguous abbreviations are an error, as in argparse.
 */
function classify(
  word: string,
  strings: readonly OptionString[],
  prog: string,
): { option?: OptionString; explicit?: string; isUnknownOption: boolean } {
  if (!word.startsWith('-') || word.length === 1) return { isUnknownOption: false };
  const exact = strings.find((s) => s.text === word);
  if (exact) return { option: exact, isUnknownOption: false };
  const eq = word.indexOf('=');
  const name = eq === -1 ? word : word.slice(0, eq);
  const explicit = eq === -1 ? undefined : word.slice(eq + 1);
  const exactBeforeEq = strings.find((s) => s.text === name);
  if (exactBeforeEq) return { option: exactBeforeEq, explicit, isUnknownOption: false };
  if (name.startsWith('--')) {
    const candidates = strings.filter((s) => s.text.startsWith(name));
    if (candidates.length > 1) {
      const names = candidates.map((c) => c.text).join(', ');
      throw new ArgparseError(
        prog,
        `ambiguous option: ${name} could match ${names}`,
        'Spell the option out in full.',
      );
    }
    if (candidates.length === 1) return { option: candidates[0], explicit, isUnknownOption: false };
  }
  if (NEGATIVE_NUMBER.test(word)) return { isUnknownOption: false };
  // argparse: a word with a space was meant as a value (e.g. --framework-args "--tp 4").
  if (word.includes(' ')) return { isUnknownOption: false };
  return { isUnknownOption: true };
}

function convert(spec: ArgSpec, raw: string, prog: string): string | number {
  let value: string | number = raw;
  if (spec.type === 'int') {
    if (!/^\s*[-+]?\d+\s*$/.test(raw)) {
      throw new ArgparseError(
        prog,
        `argument ${spec.flag}: invalid int value: '${raw}'`,
        'Give a whole number.',
      );
    }
    value = Number.parseInt(raw, 10);
  } else if (spec.type === 'lower') value = raw.toLowerCase();
  if (spec.choices && !spec.choices.includes(String(value))) {
    const choices = spec.choices.map((c) => `'${c}'`).join(', ');
    throw new ArgparseError(prog, `argument ${spec.flag}: invalid choice: '${raw}' (choose from ${choices})`);
  }
  return value;
}

export interface ParseResult {
  values: ParsedValues;
  /** Dests given on the command line (not defaults), in order. */
  given: string[];
  isHelp: boolean;
}

/** Parse `argv` (the words after the command) against `specs`. Throws ArgparseError. */
export function parseArgs(argv: readonly string[], specs: readonly ArgSpec[], prog: string): ParseResult {
  const strings = optionStrings(specs);
  const values: ParsedValues = {};
  const given: string[] = [];
  for (const spec of specs) values[destOf(spec)] = spec.default;
  const extras: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '-h' || word === '--help') return { values, given, isHelp: true };
    if (word === '--') {
      extras.push(...argv.slice(i + 1));
      break;
    }
    const { option, explicit } = classify(word, strings, prog);
    if (!option) {
      extras.push(word);
      continue;
    }
    const { spec } = option;
    const dest = destOf(spec);
    if (spec.kind !== 'value') {
      if (explicit !== undefined) {
        throw new ArgparseError(prog, `argument ${option.text}: ignored explicit argument '${explicit}'`);
      }
      values[dest] = !option.isNegated;
      given.push(dest);
      continue;
    }
    let raw = explicit;
    if (raw === undefined) {
      const next = argv[i + 1];
      const kind = next === undefined || next === '--' ? undefined : classify(next, strings, prog);
      if (!kind || kind.option || kind.isUnknownOption) {
        throw new ArgparseError(
          prog,
          `argument ${option.text}: expected one argument`,
          next?.startsWith('-')
            ? `A value that starts with '-' and has no space must be attached with '=': ${option.text}=${next}`
            : undefined,
        );
      }
      raw = next!;
      i++;
    }
    values[dest] = convert(spec, raw, prog);
    given.push(dest);
  }
  if (extras.length > 0) {
    throw new ArgparseError(
      prog,
      `unrecognized arguments: ${extras.join(' ')}`,
      `Run ${prog} --help for the options.`,
    );
  }
  const missing = specs.filter((spec) => spec.required && values[destOf(spec)] === undefined);
  if (missing.length > 0) {
    throw new ArgparseError(
      prog,
      `the following arguments are required: ${missing.map((spec) => spec.flag).join(', ')}`,
    );
  }
  return { values, given, isHelp: false };
}

/** argparse-style usage and option help. */
export function formatHelp(prog: string, description: string, specs: readonly ArgSpec[]): string {
  const usage = specs
    .map((spec) => {
      const form =
        spec.kind === 'value'
          ? `${spec.flag} ${spec.metavar ?? destOf(spec).toUpperCase()}`
          : spec.kind === 'toggle'
            ? `${spec.flag} | ${spec.flag.replace(/^--/, '--no-')}`
            : spec.flag;
      return spec.required ? form : `[${form}]`;
    })
    .join(' ');
  const lines = [
    `usage: ${prog} [-h] ${usage}`,
    '',
    description,
    '',
    'options:',
    '  -h, --help  show this help message and exit',
  ];
  for (const spec of specs) {
    const names = [spec.flag, ...(spec.aliases ?? [])];
    if (spec.kind === 'toggle') names.push(spec.flag.replace(/^--/, '--no-'));
    const metavar = spec.kind === 'value' ? ` ${spec.metavar ?? destOf(spec).toUpperCase()}` : '';
    const choices = spec.choices ? ` {${spec.choices.join(',')}}` : '';
    const fallback = spec.default !== undefined && spec.kind === 'value' ? ` (default: ${spec.default})` : '';
    lines.push(`  ${names.join(', ')}${metavar}${choices}`, `      ${spec.help}${fallback}`);
  }
  return lines.join('\n');
}
