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
