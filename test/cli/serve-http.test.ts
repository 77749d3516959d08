/**
 * `sml-mcp serve --http` as shipped (the bundled bin): the SDK's real Client over Streamable HTTP,
 * with the token, against the process a person starts. The HTTP server itself (origins, hosts,
 * sessions, limits) is tested in process by test/mcp/http.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allTools } from '../../tools/all.js';
import { CLI } from '../helpers/cli.js';
import { expectToolSuccess } from '../mcp/harness.js';

const TOKEN = 'serve-http-test-token-8f1e2d3c4b5a';
let server: ChildProcess;
let url: URL;

beforeAll(async () => {
  const home = mkdtempSync(join(tmpdir(), 'sml-serve-http-'));
  server = spawn(process.execPath, [CLI, 'serve', '--http', '127.0.0.1:0'], {
    env: { ...process.env, HOME: home, SML_CONFIG_DIR: home, SML_MCP_TOKEN: TOKEN, SML_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // The server says where it listens on stderr (port 0: the system picked one).
  url = await new Promise<URL>((resolve, reject) => {
    let stderr = '';
    server.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /MCP over Streamable HTTP at (\S+)/.exec(stderr);
      if (match) resolve(new URL(match[1]!));
    });
    server.once('exit', (code) => reject(new Error(`serve --http exited ${code}: ${stderr}`)));
  });
});

afterAll(() => {
  server?.kill();
});

function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'serve-http-test', version: '0' });
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  return client.connect(transport).then(() => client);
}

it('serves the tools over Streamable HTTP to a client with the token', async () => {
  const client = await connect(TOKEN);
  try {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(allTools.map((tool) => tool.name));
    const models = expectToolSuccess(
      await client.callTool({ name: 'list_models', arguments: { search: 'apertus' } }),
    ) as { models: { model: string }[] };
    expect(models.models.length).toBeGreaterThan(0);
    expect(models.models.every((entry) => entry.model.toLowerCase().includes('apertus'))).toBe(true);
  } finally {
    await client.close();
  }
});

it('refuses a client without the token', async () => {
  await expect(connect('not-the-token-0000000000')).rejects.toThrow(
    /Unauthorized: send Authorization: Bearer/,
  );
});
