import { createServer, type Server, type Socket } from 'node:net';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  createHarness,
  expectToolError,
  expectToolSuccess,
  type Harness,
  textOf,
} from './harness.js';

/**
 * Deadlines against a FirecREST gateway that accepts connections and never answers: every call
 * ends with a clear answer within its budget (the tests' own timeouts bound it: a call that hung
 * would fail them), and progress keeps coming while it waits.
 */

let blackHole: Server;
const sockets = new Set<Socket>();
let harness: Harness;
let client: Client;

beforeAll(async () => {
  blackHole = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  const { port } = blackHole.address() as { port: number };
  harness = createHarness({
    env: {
      SML_SYSTEM: 'clariden',
      SML_FIRECREST_URL: `http://127.0.0.1:${port}/v2`,
      SML_FIRECREST_API_KEY: 'test-api-key-0123456789',
    },
  });
  client = await connect(harness.deps);
});

afterAll(async () => {
  await client.close();
  harness.cleanup();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => blackHole.close(resolve));
});

describe('a gateway that accepts and never answers', () => {
  it('status with timeout_s 5 answers TIMEOUT, with progress meanwhile', { timeout: 15_000 }, async () => {
    const progress: Progress[] = [];
    const result = await client.callTool(
      { name: 'status', arguments: { job_ids: ['123456'], timeout_s: 5 } },
      CallToolResultSchema,
      { onprogress: (update) => progress.push(update) },
    );
    expectToolError(result, 'TIMEOUT');
    expect(textOf(result)).toMatch(/status did not finish within 10 s/);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.map((p) => p.progress)).toEqual(
      [...progress.map((p) => p.progress)].sort((a, b) => a - b),
    );
  });

  it('status waiting for serving gives up the same way instead of hanging', { timeout: 15_000 }, async () => {
    const result = await client.callTool({
      name: 'status',
      arguments: { job_ids: ['123456'], wait_until: 'serving', timeout_s: 5 },
    });
    expectToolError(result, 'TIMEOUT');
  });

  it('list_systems reports the silent system as unreachable instead of failing', {
    timeout: 15_000,
  }, async () => {
    const result = await client.callTool({ name: 'list_systems', arguments: { system: 'clariden' } });
    const [system] = (expectToolSuccess(result) as { systems: { error: string | null; live: unknown }[] })
      .systems;
    expect(system!.live).toBeNull();
    expect(system!.error).toMatch(/^\[TIMEOUT\] clariden did not answer within 10 s/);
  });

  it('keeps serving other calls afterwards', async () => {
    expectToolSuccess(await client.callTool({ name: 'list_models', arguments: { search: 'apertus' } }));
  });
});
