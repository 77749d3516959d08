import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  type ListToolsResult,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { PACKAGE_ROOT } from '../src/assets.js';
import type { ServerDeps } from '../src/services.js';
import type { ToolDefinition } from './define-tool.js';

interface ToolModule {
  name: string;
  load(): Promise<ToolDefinition>;
}

const asDefinition = (tool: unknown) => tool as ToolDefinition;

/**
 * Every tool, in the order tools/list shows them. A tool's module (its schemas, its services)
 * loads on the tool's first call, so a server starts without building any of them.
 */
export const TOOL_MODULES: readonly ToolModule[] = [
  { name: 'size_model', load: async () => asDefinition((await import('./size-model.js')).sizeModelTool) },
  { name: 'launch', load: async () => asDefinition((await import('./launch.js')).launchTool) },
  { name: 'status', load: async () => asDefinition((await import('./status.js')).statusTool) },
  { name: 'logs', load: async () => asDefinition((await import('./logs.js')).logsTool) },
  { name: 'cancel', load: async () => asDefinition((await import('./cancel.js')).cancelTool) },
  { name: 'loadtest', load: async () => asDefinition((await import('./loadtest.js')).loadtestTool) },
  { name: 'list_models', load: async () => asDefinition((await import('./list-models.js')).listModelsTool) },
  {
    name: 'list_systems',
    load: async () => asDefinition((await import('./list-systems.js')).listSystemsTool),
  },
];

/** Every tool's definition, in tools/list order. */
export function loadAllTools(): Promise<ToolDefinition[]> {
  return Promise.all(TOOL_MODULES.map((tool) => tool.load()));
}

/** Where `npm run build` writes the tools/list answer (server/publish-tools.ts). */
export const PUBLISHED_TOOLS_FILE = join(PACKAGE_ROOT, 'dist', 'tools-list.json');

// Only code built by that same build may trust the file: running from source, the list is computed.
const isBuilt = fileURLToPath(import.meta.url).startsWith(join(PACKAGE_ROOT, 'dist') + sep);

let published: Promise<ListToolsResult> | undefined;

/**
 * The tools/list answer: read from the file the build wrote, or (running from source) computed
 * from the tools' schemas once per process. The tools never change while serving.
 */
export function publishedToolsList(): Promise<ListToolsResult> {
  published ??= readPublishedFile() ?? computeToolsList();
  return published;
}

/** The build's answer; undefined when running from source or when it cannot be read. */
function readPublishedFile(): Promise<ListToolsResult> | undefined {
  if (!isBuilt) return undefined;
  try {
    return Promise.resolve(JSON.parse(readFileSync(PUBLISHED_TOOLS_FILE, 'utf8')) as ListToolsResult);
  } catch {
    return undefined;
  }
}

export async function computeToolsList(): Promise<ListToolsResult> {
  const [{ listToolsResult }, tools] = await Promise.all([import('./publish.js'), loadAllTools()]);
  return listToolsResult(tools);
}

/**
 * tools/list and tools/call are served here rather than through the SDK's registerTool: the list
 * is computed once and published in the common dialect (tools/publish.ts), argument errors carry a
 * code like every other error, and an unknown tool is a JSON-RPC error as the spec says.
 */
export function registerTools(mcp: McpServer, deps: ServerDeps): void {
  mcp.server.registerCapabilities({ tools: { listChanged: true } });
  mcp.server.setRequestHandler(ListToolsRequestSchema, () => publishedToolsList());
  const byName = new Map(TOOL_MODULES.map((tool) => [tool.name, tool]));
  mcp.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const module = byName.get(request.params.name);
    if (!module) throw unknownToolError(request.params.name);
    const [{ callTool }, tool] = await Promise.all([import('./call.js'), module.load()]);
    return callTool(tool, request.params.arguments, { deps, mcp, extra });
  });
}

export function unknownToolError(name: string): McpError {
  return new McpError(
    ErrorCode.InvalidParams,
    `Tool ${name} not found; tools/list shows the tools: ${TOOL_MODULES.map((t) => t.name).join(', ')}`,
  );
}
