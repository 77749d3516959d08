import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESOURCE_MIME_TYPE, RESOURCE_URI_META_KEY } from '@modelcontextprotocol/ext-apps/server';
import { describe, expect, it } from 'vitest';
import * as liveView from '../../resources/live-view.js';
import { PACKAGE_ROOT } from '../../src/assets.js';
import { allTools } from '../../tools/all.js';
import { PUBLISHED_TOOLS_FILE } from '../../tools/index.js';
import { listToolsResult } from '../../tools/publish.js';
import { CLI } from '../helpers/cli.js';

/**
 * What `sml-mcp serve` loads before it answers tools/list: libraries only some calls need (HTTP
 * clients, process spawning, logging, the HTTP transport) must wait for those calls. Needs
 * `npm run build`. bench/agent-surface.ts prints what this buys in milliseconds.
 */
const TRACE = fileURLToPath(new URL('../helpers/trace-loads.mjs', import.meta.url));
/** tsc's output, unbundled: its file names show which of our modules were loaded. */
const UNBUNDLED_CLI = join(PACKAGE_ROOT, 'dist', 'server', 'cli.js');

interface ColdStart {
  /** Every file the process resolved until tools/list was answered, as `loaded <url>` lines. */
  loaded: string;
  toolsList: unknown;
}

const coldStarts = new Map<string, Promise<ColdStart>>();

/** One cold start of `cli serve` per file, shared by the tests that read it. */
function coldStartOf(cli: string): Promise<ColdStart> {
  let started = coldStarts.get(cli);
  if (!started) {
    started = startUntilToolsList(cli);
    coldStarts.set(cli, started);
  }
  return started;
}

async function startUntilToolsList(cli: string): Promise<ColdStart> {
  const home = mkdtempSync(join(tmpdir(), 'sml-cold-'));
  const child = spawn(process.execPath, ['--import', TRACE, cli, 'serve'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, HOME: home, SML_CONFIG_DIR: home, SML_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const toolsList = new Promise<unknown>((resolve) => {
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      for (const line of stdout.split('\n')) {
        if (line.includes('"id":2')) resolve((JSON.parse(line) as { result: unknown }).result);
      }
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
  const answer = await toolsList;
  const loaded = stderr;
  child.kill();
  rmSync(home, { recursive: true, force: true });
  return { loaded, toolsList: answer };
}

const packagesIn = (loaded: string) =>
  new Set([...loaded.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((match) => match[1]));

describe('the shipped server (the bundle)', () => {
  it('answers tools/list without reading a single package from node_modules', async () => {
    const { loaded } = await coldStartOf(CLI);
    expect(loaded).toContain('/dist/bin/sml-mcp.js');
    // The SDK, zod and commander are bundled; pino, undici, execa and ext-apps load on first use.
    expect([...packagesIn(loaded)]).toEqual([]);
  });

  it('answers tools/list with the list the tools publish', async () => {
    const { toolsList } = await coldStartOf(CLI);
    expect(toolsList).toEqual(JSON.parse(JSON.stringify(listToolsResult(allTools))));
  });
});

describe('the module graph (tsc output, unbundled)', () => {
  it('answers tools/list without loading undici, execa, pino or the HTTP transport', async () => {
    const { loaded } = await coldStartOf(UNBUNDLED_CLI);
    expect(loaded).toContain('/node_modules/@modelcontextprotocol/sdk/');
    for (const lazy of ['undici', 'execa', 'pino']) expect(packagesIn(loaded)).not.toContain(lazy);
    expect(loaded).not.toMatch(/\/sdk\/dist\/esm\/server\/streamableHttp\.js/);
  });

  it('answers tools/list without loading a tool, the job service, the renderer or ext-apps', async () => {
    const { loaded } = await coldStartOf(UNBUNDLED_CLI);
    expect(loaded).toContain('/dist/resources/live-view.js');
    expect(loaded).not.toMatch(/\/node_modules\/@modelcontextprotocol\/ext-apps\//);
    for (const lazy of [
      'tools/launch',
      'tools/publish',
      'src/jobs/service',
      'src/jobs/launcher',
      'src/loadtest/service',
      'sbatch/render',
      'sbatch/loadtest',
      'src/scheduler/slurm/backend',
    ]) {
      expect(loaded).not.toContain(`/dist/${lazy}.js`);
    }
  });
});

it('the build publishes exactly the tools/list the tools compute', () => {
  const published = JSON.parse(readFileSync(PUBLISHED_TOOLS_FILE, 'utf8'));
  expect(published, 'dist/tools-list.json is stale: run npm run build').toEqual(
    JSON.parse(JSON.stringify(listToolsResult(allTools))),
  );
});

it("spells ext-apps' MCP App constants as ext-apps does", () => {
  expect(liveView.RESOURCE_MIME_TYPE).toBe(RESOURCE_MIME_TYPE);
  expect(liveView.RESOURCE_URI_META_KEY).toBe(RESOURCE_URI_META_KEY);
});
