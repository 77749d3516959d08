import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { type Redactor, redactDeep } from '../src/config/secrets.js';
import { errorText, MAX_ERROR_TEXT, SmlError, toSmlError, truncateMiddle } from '../src/errors.js';
import { logger } from '../src/log.js';
import type { ToolReply } from './define-tool.js';

/**
 * The one place where tool outcomes become MCP results. Errors carry text only (`[CODE] message
 * next-step`, never structuredContent: v1 clients validate it even on errors), secrets redacted.
 */

export function toErrorResult(toolName: string, thrown: unknown, redact: Redactor): CallToolResult {
  const error = toSmlError(thrown);
  const text = errorText(error, redact);
  const cause =
    error.cause instanceof Error ? truncateMiddle(redact(error.cause.message), MAX_ERROR_TEXT) : undefined;
  const level = error.code === 'INTERNAL' ? 'error' : 'info';
  logger[level]({ tool: toolName, code: error.code, cause }, text);
  return { isError: true, content: [{ type: 'text', text }] };
}

export function toSuccessResult(
  reply: ToolReply<Record<string, unknown>>,
  redact: Redactor,
  mirrorsJson = true,
): CallToolResult {
  const structured = redactDeep(reply.structured, redact);
  return {
    content: [
      { type: 'text', text: redact(reply.text) },
      // Clients that ignore structuredContent still get the data (spec: SHOULD mirror it as text).
      ...(mirrorsJson ? [{ type: 'text' as const, text: JSON.stringify(structured) }] : []),
      ...(reply.links ?? []).map((link) => redactDeep(link, redact)),
    ],
    structuredContent: structured,
  };
}

/**
 * A zod failure as the message an agent can correct its call from. Unknown arguments are named
 * with the argument probably meant: a misspelt flag must never be ignored (cancel with
 * `wholeChain: false` once cancelled the whole chain).
 */
export function invalidArguments(
  toolName: string,
  error: z.ZodError,
  knownFields: readonly string[] = [],
): SmlError {
  const problems = error.issues.slice(0, 6).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(arguments)';
    if (issue.code !== 'unrecognized_keys') return `${where}: ${issue.message}`;
    return issue.keys.map((key) => `unknown argument '${key}'${suggestionFor(key, knownFields)}`).join('; ');
  });
  const hasUnknown = error.issues.some((issue) => issue.code === 'unrecognized_keys');
  const takes = hasUnknown ? ` ${toolName} takes: ${knownFields.join(', ')}.` : '';
  return new SmlError('INVALID_ARGUMENT', `Invalid arguments for ${toolName}: ${problems.join('; ')}.`, {
    hint: `Fix these and call ${toolName} again; nothing was done.${takes}`,
  });
}

/** ` (did you mean 'whole_chain'?)` when a known field differs only in case, separators or a typo. */
function suggestionFor(key: string, knownFields: readonly string[]): string {
  const normalize = (name: string) => name.toLowerCase().replace(/[-_\s]/g, '');
  const wanted = normalize(key);
  const match =
    knownFields.find((field) => normalize(field) === wanted) ??
    knownFields.find((field) => editDistance(normalize(field), wanted) <= 2);
  return match ? ` (did you mean '${match}'?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
