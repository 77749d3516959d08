import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { logger } from '../src/log.js';
import { runWithinBudget } from './deadline.js';
import type { ToolContext, ToolDefinition } from './define-tool.js';
import { invalidArguments, toErrorResult, toSuccessResult } from './result.js';
import { assertSafeStrings } from './safe-input.js';

/**
 * One tool call, from raw arguments to an MCP result: the arguments are checked, the tool runs
 * within its time budget, its result is checked against its output schema, and every error
 * becomes a result starting with [CODE].
 */
export async function callTool(
  tool: ToolDefinition,
  rawArgs: unknown,
  context: Omit<ToolContext, 'progress'>,
): Promise<CallToolResult> {
  const redact = context.deps.config.redact;
  try {
    assertSafeStrings(tool.name, rawArgs);
    const parsed = tool.input.safeParse(withoutNulls(rawArgs ?? {}));
    if (!parsed.success) throw invalidArguments(tool.name, parsed.error, Object.keys(tool.input.shape));
    const reply = await runWithinBudget(tool, parsed.data, context);
    const checked = tool.output.safeParse(reply.structured);
    if (!checked.success) {
      logger.error(
        { tool: tool.name, issues: checked.error.issues.slice(0, 5) },
        'tool result does not match its output schema',
      );
      throw new Error(`the result of ${tool.name} does not match its output schema`);
    }
    return toSuccessResult({ ...reply, structured: checked.data }, redact, tool.mirrorsJson ?? true);
  } catch (error) {
    return toErrorResult(tool.name, error, redact);
  }
}

/**
 * A null argument is a left-out one: clients in OpenAI's strict mode must send every property, and
 * send null for those they do not mean to set.
 */
function withoutNulls(args: unknown): unknown {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return args;
  return Object.fromEntries(Object.entries(args).filter(([, value]) => value !== null));
}
