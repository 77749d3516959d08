import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { logger } from '../src/log.js';
import type { ServerDeps } from './deps.js';
import { createMcpServer } from './server.js';

/**
 * Serve one client over stdin/stdout. stdout carries nothing but JSON-RPC (the logger writes to
 * stderr); the process ends when stdin ends or closes (the SDK does not), or on SIGTERM/SIGINT.
 */
export async function runStdioServer(deps: ServerDeps): Promise<void> {
  const mcp = createMcpServer(deps);
  const transport = new StdioServerTransport();
  let isShuttingDown = false;
  const shutdown = (reason: string) => {
    if (isShuttingDown) return;
    isShuttingDown = true;
    logger.info({ reason }, 'sml-mcp stdio server stopping');
    // A stuck close must not keep an orphaned server alive.
    setTimeout(() => process.exit(0), 2000).unref();
    void mcp.close().finally(() => process.exit(0));
  };
  await mcp.connect(transport);
  // After connect(): that is what puts stdin into flowing mode.
  process.stdin.once('end', () => shutdown('stdin ended'));
  process.stdin.once('close', () => shutdown('stdin closed'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  logger.info('sml-mcp serving MCP over stdio');
}
