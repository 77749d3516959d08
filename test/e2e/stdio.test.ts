import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { clusterEnv, expectToolError, expectToolSuccess, runLifecycle } from '../mcp/harness.js';

const SECRETS = {
  SML_FIRECREST_CLIENT_SECRET: 'stdio-client-secret-51c0ffee',
  SML_MCP_TOKEN: 'stdio-mcp-token-9a8b7c6d5e',
};

/** A stdio client transport that also keeps every line the server wrote to stdout and stderr. */
class RecordingStdioTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  readonly stdoutLines: string[] = [];
  stderr = '';
  child?: ChildProcess;
  exited?: Promise<number | null>;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, [CLI, 'serve'], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr!.on('data', (chunk) => {
      this.stderr += chunk;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.stdoutLines.push(line);
      try {
        this.onmessage?.(JSON.parse(line) as JSONRPCMessage);
      } catch (error) {
        this.onerror?.(error as Error);
      }
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.child!.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    this.child?.stdin?.end();
    this.onclose?.();
  }
}

let dir: string;

beforeAll(() => {
  expect(existsSync(CLI), `${CLI} is missing: run npm run build first`).toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'sml-stdio-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sml-mcp serve over stdio (the built server)', () => {
  it('runs a deployment end to end, writes only JSON-RPC to stdout, keeps secrets out and exits when stdin closes', {
    timeout: 900_000,
  }, async () => {
    const transport = new RecordingStdioTransport({
      ...process.env,
      ...clusterEnv(),
      HOME: dir,
      SML_CONFIG_DIR: dir,
      SML_SYSTEM: 'local',
      ...SECRETS,
    });
    const client = new Client({ name: 'stdio-test', version: '0' });
    await client.connect(transport);

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['launch', 'status', 'logs', 'cancel']));
    const outcome = await runLifecycle(client, randomUUID());
    expect(outcome.endpoint).toMatch(/^http:\/\//);
    expectToolSuccess(await client.callTool({ name: 'list_models', arguments: { search: 'qwen' } }));
    // An error that would echo a secret value back.
    expectToolError(
      await client.callTool({
        name: 'list_systems',
        arguments: { system: SECRETS.SML_FIRECREST_CLIENT_SECRET },
      }),
      'UNKNOWN_SYSTEM',
    );

    await transport.close();
    expect(await transport.exited).toBe(0);

    expect(transport.stdoutLines.length).toBeGreaterThan(5);
    for (const line of transport.stdoutLines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
    const everything = transport.stdoutLines.join('\n') + transport.stderr;
    for (const secret of Object.values(SECRETS)) expect(everything).not.toContain(secret);
    expect(transport.stderr).toContain('sml-mcp serving MCP over stdio');
  });

  it('exits at once when stdin closes with nothing pending', async () => {
    const transport = new RecordingStdioTransport({ ...process.env, HOME: dir, SML_CONFIG_DIR: dir });
    const client = new Client({ name: 'stdio-test', version: '0' });
    await client.connect(transport);
    await client.listPrompts();
    await transport.close();
    expect(await transport.exited).toBe(0);
  });
});
