import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  ResourceLink,
  ServerNotification,
  ServerRequest,
  ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { ServerDeps } from '../src/services.js';
import type { ProgressReporter } from './deadline.js';

/**
 * The shape of every tool: a declarative object whose annotations derive from `kind` and
 * `touchesCluster`. Handlers return data and a short text, or throw an SmlError; the registry
 * (tools/index.ts) turns both into MCP results in one place.
 */

export type ToolKind = 'read' | 'create' | 'destructive';
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ToolContext {
  deps: ServerDeps;
  /** The session's server: client capabilities, elicitation. */
  mcp: McpServer;
  /** The request; its signal aborts when the client cancels or the call's time budget runs out. */
  extra: ToolExtra;
  /** This call's progress notifications (shared with its heartbeat, so they stay increasing). */
  progress: ProgressReporter;
}

export interface ToolReply<Out> {
  structured: Out;
  /** Short summary for a person or an agent reading text only. */
  text: string;
  /** Resources worth reading next, sent as `resource_link` content items. */
  links?: ResourceLink[];
}

export interface ToolDefinition<In extends z.ZodObject = z.ZodObject, Out extends z.ZodObject = z.ZodObject> {
  /** snake_case, never renamed once released. */
  name: string;
  title: string;
  /** The agent's documentation of the tool: when to use it, what it returns, what to do next. */
  description: string;
  kind: ToolKind;
  /** Whether the tool talks to a cluster (the open world) rather than local data. */
  touchesCluster: boolean;
  input: In;
  output: Out;
  /** Published as the tool's `_meta` in tools/list (e.g. `ui.resourceUri` of an MCP app). */
  _meta?: Record<string, unknown>;
  /**
   * How long the caller asked this call to wait, in seconds (its timeout_s): the call's time budget
   * follows it. Without it a call gets the default budget, under the 60 s at which clients give up.
   */
  waitS?(args: z.output<In>): number | undefined;
  /** What to do when the call ran out of time (default: try again; the cluster was slow). */
  timeoutHint?: string;
  /** Whether the text content repeats the structured result as JSON (default true; logs carries the text itself). */
  mirrorsJson?: boolean;
  run(args: z.output<In>, context: ToolContext): Promise<ToolReply<z.output<Out>>>;
}

export function defineTool<In extends z.ZodObject, Out extends z.ZodObject>(
  tool: ToolDefinition<In, Out>,
): ToolDefinition<In, Out> {
  return tool;
}

/**
 * The MCP hints from the tool's kind, so they can never disagree with what it does. No title (tools/list
 * carries it beside them); for a read-only tool no destructive/idempotent hints, which the spec
 * defines as meaningful only when readOnlyHint is false.
 */
export function annotationsFor(tool: Pick<ToolDefinition, 'kind' | 'touchesCluster'>): ToolAnnotations {
  if (tool.kind === 'read') return { readOnlyHint: true, openWorldHint: tool.touchesCluster };
  return {
    readOnlyHint: false,
    destructiveHint: tool.kind === 'destructive',
    // Cancelling an ended job is a no-op; launching twice submits twice.
    idempotentHint: tool.kind !== 'create',
    openWorldHint: tool.touchesCluster,
  };
}
