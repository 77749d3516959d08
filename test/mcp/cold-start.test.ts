import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESOURCE_MIME_TYPE, RESOURCE_URI_META_KEY } from '@modelcontextprotocol/ext-apps/server';
import { expect, it } from 'vitest';
import * as liveView from '../../resources/live-view.js';
import { CLI } from '../helpers/cli.js';

/**
 * What `sml-mcp serve` loads before it answers tools/list: libraries only some calls need (HTTP
 * clients, process spawning, the HTTP transport) must wait for those calls. Needs `npm run build`.
 */
const TRACE = fileURLToPath(new URL('../helpers/trace-loads.mjs', import.meta.url));

async function packagesLoadedUntilToolsList(): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'sml-cold-'));
  const child = spawn(process.execPath, ['--import', TRACE, CLI, 'serve'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, HOME: home, SML_CONFIG_DIR: home, SML_LOG_LEVEL: 'error' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const answered = new Promise<void>((resolve) => {
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('"id":2')) resolve();
    });
  });
  const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
  send({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cold', version: '0' } },
  });
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  await answered;
  const loaded = stderr;
  child.kill();
  rmSync(home, { recursive: true, force: true });
  return loaded;
}

it('answers tools/list without loading undici, execa or the HTTP transport', async () => {
  const loaded = await packagesLoadedUntilToolsList();
  expect(loaded).toContain('/node_modules/@modelcontextprotocol/sdk/');
  expect(loaded).not.toMatch(/\/node_modules\/undici\//);
  expect(loaded).not.toMatch(/\/node_modules\/execa\//);
  expect(loaded).not.toMatch(/\/sdk\/dist\/esm\/server\/streamableHttp\.js/);
});

it('answers tools/list without loading ext-apps, the load-test service or its renderer', async () => {
  const loaded = await packagesLoadedUntilToolsList();
  expect(loaded).toContain('/dist/resources/live-view.js');
  expect(loaded).not.toMatch(/\/node_modules\/@modelcontextprotocol\/ext-apps\//);
  expect(loaded).not.toMatch(/\/dist\/src\/loadtest\/service\.js/);
  expect(loaded).not.toMatch(/\/dist\/sbatch\/loadtest\.js/);
});

it("spells ext-apps' MCP App constants as ext-apps does", () => {
  expect(liveView.RESOURCE_MIME_TYPE).toBe(RESOURCE_MIME_TYPE);
  expect(liveView.RESOURCE_URI_META_KEY).toBe(RESOURCE_URI_META_KEY);
});
