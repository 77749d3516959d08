import { createHash } from 'node:crypto';
import { quoteArgv, quoteShell, quoteShellExpanding } from '../src/shell.js';

/** Small builders for generated bash: every value goes through quoteShell (src/shell.ts). */

export const q = quoteShell;
export const qa = quoteArgv;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `export NAME=value` with the value quoted; the name must be a plain variable name. With
 * `isExpanding`, `$NAME` / `${NAME}` in the value expand at run time (see quoteShellExpanding).
 */
export function exportLine(name: string, value: string, options: { isExpanding?: boolean } = {}): string {
  if (!ENV_NAME.test(name)) throw new Error(`not a variable name: ${name}`);
  return `export ${name}=${options.isExpanding ? quoteShellExpanding(value) : q(value)}`;
}

/**
 * Write `content` to `pathExpression` (a bash word, e.g. "$RANKS_DIR/head.sh") with a quoted
 * heredoc, so nothing inside is expanded. The delimiter is derived from the content and checked
 * not to occur as a line of it, so user text cannot end the heredoc early.
 */
export function heredocWrite(pathExpression: string, content: string, label: string): string {
  const body = content.endsWith('\n') ? content : `${content}\n`;
  const lines = new Set(body.split('\n'));
  const digest = createHash('sha256').update(body).digest('hex').slice(0, 12);
  let delimiter = `__SML_${label}_EOF_${digest}__`;
  for (let n = 1; lines.has(delimiter); n++) delimiter = `__SML_${label}_EOF_${digest}_${n}__`;
  return `cat >${pathExpression} <<'${delimiter}'\n${body}${delimiter}`;
}

/** Join non-empty blocks with a blank line between them. */
export function blocks(...parts: (string | false | undefined | null)[]): string {
  return parts.filter((p): p is string => typeof p === 'string' && p !== '').join('\n\n');
}
