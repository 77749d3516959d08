// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file writes bash, where ${...} is bash syntax
/**
 * The one shell-quoting helper: every value that reaches a generated script or a remote shell
 * goes through `quoteShell`, so quotes, `$()`, backticks, newlines and globs stay literal.
 */

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one value as a single bash word (POSIX single quotes; `'` becomes `'\''`). */
export function quoteShell(value: string): string {
  if (value !== '' && SAFE_WORD.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Quote an argv array as a bash command line, word by word. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(quoteShell).join(' ');
}

const VARIABLE = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * Quote one value as a single bash word in which `$NAME` and `${NAME}` expand from the job's
 * environment at run time — inside double quotes, so without word splitting or globbing — and
 * nothing else does. Check values with `assertRunTimeVariablesOnly` first.
 */
export function quoteShellExpanding(value: string): string {
  if (!value.includes('$')) return quoteShell(value);
  let word = '';
  let last = 0;
  for (const match of value.matchAll(VARIABLE)) {
    if (match.index > last) word += quoteShell(value.slice(last, match.index));
    word += `"\${${match[1] ?? match[2]}}"`;
    last = match.index + match[0].length;
  }
  if (last < value.length) word += quoteShell(value.slice(last));
  return word;
}

/**
 * The one rule for values that may name run-time variables: `$NAME` and `${NAME}` are allowed;
 * command substitution (`$(…)`, backticks) and other `${…}` forms are refused with the
 * variable form to use instead. Returns the problem, or undefined when the value is fine.
 */
export function findShellSubstitution(value: string): { found: string; suggestion: string } | undefined {
  const command = /\$\(([^)]*)\)?|`([^`]*)`?/.exec(value);
  if (command) {
    const inner = (command[1] ?? command[2] ?? '').trim();
    const known: Record<string, string> = {
      whoami: '$USER',
      'id -un': '$USER',
      hostname: '$HOSTNAME',
      pwd: '$PWD',
      'echo $HOME': '$HOME',
    };
    return {
      found: command[0],
      suggestion:
        known[inner] ??
        'an environment variable as $NAME or ${NAME}, set in the environment file or by pre_launch_cmds',
    };
  }
  for (const match of value.matchAll(/\$\{[^}]*\}?/g)) {
    if (!/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(match[0])) {
      return { found: match[0], suggestion: 'plain ${NAME} (no defaults, no arithmetic, no substitutions)' };
    }
  }
  return undefined;
}
