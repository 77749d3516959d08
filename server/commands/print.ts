/**
 * The one place the CLI writes for people: results to stdout, notes and progress to stderr.
 * (Server code never writes to stdout; in stdio mode it belongs to the protocol.)
 */
export function printOut(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printErr(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  printOut(JSON.stringify(value, null, 2));
}

/** Exit codes of every subcommand. */
export const EXIT = {
  ok: 0,
  /** The tool answered with an error (bad input, cluster refused, …). */
  error: 1,
  /** A wait timed out before the job reached the phase. */
  timeout: 3,
  /** The job ended before it reached the phase waited for. */
  endedFirst: 4,
} as const;
