import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { logger } from '../src/log.js';
import type { ServerDeps } from '../src/services.js';
import { cancelTool } from './cancel.js';
import { annotationsFor, type ToolContext, type ToolDefinition } from './define-tool.js';
import { launchTool } from './launch.js';
import { listModelsTool } from './list-models.js';
import { listSystemsTool } from './list-systems.js';
import { logsTool } from './logs.js';
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
  listModelsTool,
  listSystemsTool,
] as unknown as readonly ToolDefinition[];

// The SDK's generic registerTool signature makes TypeScript recurse too deep (TS2589); one cast here.
type PlainRegisterTool = (
  name: string,
  config: Record<string, unknown>,
  callback: (...args: unknown[]) => CallToolResult,
) => unknown;

export function registerTools(
  mcp: McpServer,
  deps: ServerDeps,
  tools: readonly ToolDefinition[] = allTools,
): void {
  const register = mcp.registerTool.bind(mcp) as unknown as PlainRegisterTool;
  for (const tool of tools) {
    // Registered for tools/list (schemas, annotations); calls go through callTool below.
    register(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        outputSchema: tool.output,
        annotations: annotationsFor(tool),
      },
      () => {
        throw new Error('served by callTool');
      },
    );
  }
  const byName = new Map(tools.map((tool) => [tool.name, tool]));
  // Our own tools/call handler, so argument errors carry a code like every other error, and an
  // unknown tool is a JSON-RPC error as the spec says (SDK v1 turns both into bare isError text).
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
  context: ToolContext,
): Promise<CallToolResult> {
  const redact = context.deps.config.redact;
  try {
    assertSafeStrings(tool.name, rawArgs);
    const parsed = tool.input.safeParse(rawArgs ?? {});
    if (!parsed.success) throw invalidArguments(tool.name, parsed.error);
    const reply = await tool.run(parsed.data, context);
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
