import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { logger } from '../src/log.js';
import type { ServerDeps } from './deps.js';
import { createMcpServer } from './server.js';

// When stdin ends, requests already read still get their answers, for this long at most.
const DRAIN_GRACE_MS = 10_000;

/**
 * Serve one client over stdin/stdout. stdout carries nothing but JSON-RPC (the logger writes to
 * stderr); the process ends when stdin ends or closes (the SDK does not), or on SIGTERM/SIGINT.
 */
export async function runStdioServer(deps: ServerDeps): Promise<void> {
  const mcp = createMcpServer(deps);
  const transport = new StdioServerTransport();
  const pending = new Set<string | number>();
  let isShuttingDown = false;

  const exit = () => {
    void mcp.close().finally(() => process.exit(0));
    // A stuck close must not keep an orphaned server alive.
    setTimeout(() => process.exit(0), 2000).unref();
  };
  const shutdown = (reason: string, shouldDrain: boolean) => {
    if (isShuttingDown) return;
    isShuttingDown = true;
    logger.info({ reason, pending: pending.size }, 'sml-mcp stdio server stopping');
    if (!shouldDrain || pending.size === 0) return exit();
    setTimeout(exit, DRAIN_GRACE_MS).unref();
  };

  await mcp.connect(transport);
  trackPendingRequests(transport, pending, () => {
    if (isShuttingDown && pending.size === 0) exit();
  });
  // After connect(): that is what puts stdin into flowing mode.
  process.stdin.once('end', () => shutdown('stdin ended', true));
  process.stdin.once('close', () => shutdown('stdin closed', true));
  process.once('SIGTERM', () => shutdown('SIGTERM', false));
  process.once('SIGINT', () => shutdown('SIGINT', false));
  logger.info('sml-mcp serving MCP over stdio');
}

/** Count requests read until their response is written, so a closing stdin can drain them. */
function trackPendingRequests(
  transport: StdioServerTransport,
  pending: Set<string | number>,
  onSettled: () => void,
): void {
  const receive = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    if ('method' in message && 'id' in message) pending.add(message.id);
    receive?.(message);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage) => {
    await send(message);
    if (
      ('result' in message || 'error' in message) &&
      message.id !== undefined &&
      pending.delete(message.id)
    ) {
      onSettled();
    }
  };
}
