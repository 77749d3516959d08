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

/** A zod failure as the message an agent can correct its call from. */
export function invalidArguments(toolName: string, error: z.ZodError): SmlError {
  const problems = error.issues
    .slice(0, 6)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(arguments)'}: ${issue.message}`)
    .join('; ');
  return new SmlError('INVALID_ARGUMENT', `Invalid arguments for ${toolName}: ${problems}.`, {
    hint: `Fix these fields and call ${toolName} again; tools/list shows its input schema.`,
  });
}
