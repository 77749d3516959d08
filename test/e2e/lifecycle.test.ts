import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHttpServer, startHttpServer } from '../../server/http.js';
import {
  connect,
  createHarness,
  expectToolSuccess,
  type Harness,
  runLifecycle,
  waitUntilEnded,
} from '../mcp/harness.js';

const TOKEN = 'lifecycle-token-0123456789';
let harness: Harness;
let server: RunningHttpServer;

beforeAll(async () => {
  harness = createHarness({ onCluster: true });
  server = await startHttpServer(harness.deps, { host: '127.0.0.1', port: 0, token: TOKEN });
});

afterAll(async () => {
  await server.close();
  harness.cleanup();
});

describe('a deployment through the MCP server on the local cluster', () => {
  it('launches, serves, shows its logs and is cancelled (in memory)', { timeout: 900_000 }, async () => {
    const client = await connect(harness.deps);
    let listChanges = 0;
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      listChanges++;
    });
    const outcome = await runLifecycle(client, randomUUID());
    expect(listChanges).toBeGreaterThan(0);
    expect(outcome.endpoint).toMatch(/^http:\/\/10\.77\.0\.\d+:8080\/v1$/);
    expect(outcome.servedModelName).toBe('root/swiss-ai/Apertus-8B-Instruct-2509');
    expect(outcome.logText.length).toBeGreaterThan(0);
    await waitUntilEnded(client, outcome.jobId);
    const after = expectToolSuccess(
      await client.callTool({ name: 'status', arguments: { job_ids: [outcome.jobId] } }),
    );
    expect((after.jobs as { end_reason: string }[])[0]!.end_reason).toBe('cancelled');
    await client.close();
  });

  it('does the same over Streamable HTTP with the token', { timeout: 900_000 }, async () => {
    const transport = new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    });
    const client = new Client({ name: 'lifecycle-http', version: '0' });
    await client.connect(transport);
    const outcome = await runLifecycle(client, randomUUID());
    expect(outcome.endpoint).toMatch(/^http:\/\//);
    await client.close();
  });
});
