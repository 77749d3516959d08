import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { ServerDeps } from '../src/services.js';
import { PACKAGE_VERSION } from '../src/version.js';
import { createMcpServer } from './server.js';

export interface InProcessClientOptions {
  /** Client name reported to the server (default sml-mcp-cli). */
  name?: string;
  capabilities?: ClientCapabilities;
}

/**
 * An SDK Client connected in memory to a fresh server over `deps`: the CLI calls the very tools
 * an agent calls. `client.close()` closes both ends.
 */
export async function connectInProcessClient(
  deps: ServerDeps,
  options: InProcessClientOptions = {},
): Promise<Client> {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const server = createMcpServer(deps);
  await server.connect(serverTransport);
  const client = new Client(
    { name: options.name ?? 'sml-mcp-cli', version: PACKAGE_VERSION },
    { capabilities: options.capabilities ?? {} },
  );
  await client.connect(clientTransport);
  return client;
}
