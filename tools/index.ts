import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { logger } from '../src/log.js';
import type { ServerDeps } from '../src/services.js';
import { cancelTool } from './cancel.js';
import { runWithinBudget } from './deadline.js';
import type { ToolContext, ToolDefinition } from './define-tool.js';
import { launchTool } from './launch.js';
import { listModelsTool } from './list-models.js';
import { listSystemsTool } from './list-systems.js';
import { loadtestTool } from './loadtest.js';
import { logsTool } from './logs.js';
import { listToolsResult } from './publish.js';
import { invalidArguments, toErrorResult, toSuccessResult } from './result.js';
import { assertSafeStrings } from './safe-input.js';
import { sizeModelTool } from './size-model.js';
import { statusTool } from './status.js';

/** Every tool, in the order tools/list shows them. */
export const allTools: readonly ToolDefinition[] = [
  sizeModelTool,
  launchTool,
  statusTool,
  logsTool,
  cancelTool,
  loadtestTool,
  listModelsTool,
  listSystemsTool,
] as unknown as readonly ToolDefinition[];

/**
 * tools/list and tools/call are served here rather than through the SDK's registerTool: the list
 * is computed once and published in the common dialect (tools/publish.ts), argument errors carry a
 * code like every other error, and an unknown tool is a JSON-RPC error as the spec says.
 */
export function registerTools(
  mcp: McpServer,
  deps: ServerDeps,
  tools: readonly ToolDefinition[] = allTools,
): void {
  mcp.server.registerCapabilities({ tools: { listChanged: true } });
  const listed = listToolsResult(tools);
  mcp.server.setRequestHandler(ListToolsRequestSchema, () => listed);
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  mcp.server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const tool = byName.get(request.params.name);
    if (!tool) throw unknownToolError(request.params.name);
    return callTool(tool, request.params.arguments, { deps, mcp, extra });
  });
}

export function unknownToolError(name: string): McpError {
  return new McpError(
    ErrorCode.InvalidParams,
    `Tool ${name} not found; tools/list shows the tools: ${allTools.map((t) => t.name).join(', ')}`,
  );
}

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
