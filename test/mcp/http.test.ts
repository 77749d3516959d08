import { request as httpRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHttpServer, startHttpServer, validateHttpOptions } from '../../server/http.js';
import { createHarness, eventually, expectToolSuccess, type Harness } from './harness.js';

const TOKEN = 'test-token-0123456789abcdef';
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
};

let harness: Harness;
let server: RunningHttpServer;

beforeAll(async () => {
  harness = createHarness();
  server = await startHttpServer(harness.deps, {
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    allowedOrigins: ['http://localhost:6274'],
    sessionIdleMs: 1500,
    maxBodyBytes: 64 * 1024,
  });
});

afterAll(async () => {
  await server.close();
  harness.cleanup();
});

async function connectHttpClient(
  token = TOKEN,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'http-test', version: '0' });
  await client.connect(transport);
  return { client, transport };
}

/** A raw POST, to control every header (fetch would not let us forge Host). */
function rawPost(
  headers: Record<string, string>,
  body: unknown = INITIALIZE,
): Promise<{ status: number; body: string }> {
  const url = new URL(server.url);
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'content-length': Buffer.byteLength(payload),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('Streamable HTTP', () => {
  it('refuses a request without the token (401) or with a wrong one (401)', async () => {
    const none = await rawPost({});
    expect(none.status).toBe(401);
    const wrong = await rawPost({ authorization: 'Bearer wrong-token-0123456789' });
    expect(wrong.status).toBe(401);
    await expect(connectHttpClient('wrong-token-0123456789')).rejects.toThrow();
  });

  it('refuses a foreign Origin with 403, and accepts an allowed one', async () => {
    const foreign = await rawPost({ authorization: `Bearer ${TOKEN}`, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    const allowed = await rawPost({ authorization: `Bearer ${TOKEN}`, origin: 'http://localhost:6274' });
    expect(allowed.status).toBe(200);
  });

  it("accepts the server's own loopback origins without configuration, not other ports or schemes", async () => {
    const { port } = server;
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]) {
      expect((await rawPost({ authorization: `Bearer ${TOKEN}`, origin })).status, origin).toBe(200);
    }
    for (const origin of [
      `http://127.0.0.1:${port + 1}`,
      `https://localhost:${port}`,
      `http://evil.example:${port}`,
    ]) {
      expect((await rawPost({ authorization: `Bearer ${TOKEN}`, origin })).status, origin).toBe(403);
    }
  });

  it('refuses a foreign Host header with 403 (DNS rebinding)', async () => {
    const response = await rawPost({ authorization: `Bearer ${TOKEN}`, host: 'evil.example:80' });
    expect(response.status).toBe(403);
  });

  it('refuses a body above the limit with 413', async () => {
    const huge = { ...INITIALIZE, params: { ...INITIALIZE.params, padding: 'x'.repeat(100 * 1024) } };
    expect((await rawPost({ authorization: `Bearer ${TOKEN}` }, huge)).status).toBe(413);
  });

  it('with the token, initializes, lists tools and calls one', async () => {
    const { client } = await connectHttpClient();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('list_models');
    const result = await client.callTool({ name: 'list_models', arguments: { search: 'apertus' } });
    expect((expectToolSuccess(result).models as unknown[]).length).toBeGreaterThan(0);
    await client.close();
  });

  it('keeps two clients in separate sessions', async () => {
    const [a, b] = await Promise.all([connectHttpClient(), connectHttpClient()]);
    expect(a.transport.sessionId).toBeTruthy();
    expect(b.transport.sessionId).toBeTruthy();
    expect(a.transport.sessionId).not.toBe(b.transport.sessionId);
    const [listA, listB] = await Promise.all([a.client.listTools(), b.client.listPrompts()]);
    expect(listA.tools.length).toBeGreaterThan(0);
    expect(listB.prompts.length).toBeGreaterThan(0);
    await a.transport.terminateSession();
    await a.client.close();
    expect((await b.client.listResources()).resources.length).toBeGreaterThan(0);
    await b.client.close();
  });

  it('expires idle sessions: their id is then unknown (404)', async () => {
    const { client, transport } = await connectHttpClient();
    const sessionId = transport.sessionId!;
    await eventually(async () => (server.sessionCount() === 0 ? true : undefined), 20_000);
    const stale = await rawPost(
      { authorization: `Bearer ${TOKEN}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
    );
    expect(stale.status).toBe(404);
    await client.close().catch(() => undefined);
  });

  it('never closes an idle session while one of its requests is still running', async () => {
    const jobs = Object.create(harness.deps.jobs) as typeof harness.deps.jobs;
    jobs.waitFor = async () => {
      await new Promise((resolve) => setTimeout(resolve, 3000));
      return { reached: false, timed_out: true, statuses: [] };
    };
    const slow = await startHttpServer(
      { ...harness.deps, jobs },
      { host: '127.0.0.1', port: 0, token: TOKEN, sessionIdleMs: 300 },
    );
    try {
      const transport = new StreamableHTTPClientTransport(new URL(slow.url), {
        requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
      });
      const client = new Client({ name: 'slow', version: '0' });
      await client.connect(transport);
      const result = await client.callTool({
        name: 'status',
        arguments: { job_ids: ['12345'], wait_until: 'serving', timeout_s: 5 },
      });
      expect(expectToolSuccess(result).wait).toMatchObject({ timed_out: true });
      // Idle again after the answer: the sweep closes it then.
      await eventually(async () => (slow.sessionCount() === 0 ? true : undefined), 10_000);
      await client.close().catch(() => undefined);
    } finally {
      await slow.close();
    }
  });

  it('caps the open sessions: one more initialize gets 503 with Retry-After', async () => {
    const small = await startHttpServer(harness.deps, {
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      maxSessions: 2,
    });
    try {
      const post = (body: unknown) =>
        fetch(small.url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${TOKEN}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify(body),
        });
      const opened = [await post(INITIALIZE), await post(INITIALIZE)];
      expect(opened.map((r) => r.status)).toEqual([200, 200]);
      const refused = await post(INITIALIZE);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(
        /at most 2 open sessions/,
      );
      expect(small.sessionCount()).toBe(2);
      // Ending a session frees its place.
      const ended = await fetch(small.url, {
        method: 'DELETE',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'mcp-session-id': opened[0]!.headers.get('mcp-session-id')!,
          'mcp-protocol-version': '2025-06-18',
        },
      });
      expect(ended.status).toBe(200);
      expect((await post(INITIALIZE)).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('says the port is in use instead of reporting a bug', async () => {
    const port = new URL(server.url).port;
    await expect(
      startHttpServer(harness.deps, { host: '127.0.0.1', port: Number(port), token: TOKEN }),
    ).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/already in use/) });
  });

  it('will not start without a token, with a short one, or beyond loopback without explicit permission', () => {
    const base = { host: '127.0.0.1', port: 0, token: TOKEN };
    expect(() => validateHttpOptions({ ...base, token: '' })).toThrow(/SML_MCP_TOKEN/);
    expect(() => validateHttpOptions({ ...base, token: 'short' })).toThrow(/too short/);
    expect(() => validateHttpOptions({ ...base, host: '0.0.0.0' })).toThrow(/only loopback/);
    expect(() => validateHttpOptions({ ...base, host: '0.0.0.0', isRemoteAllowed: true })).toThrow(
      /allowed Host/,
    );
    expect(() =>
      validateHttpOptions({ ...base, host: '0.0.0.0', isRemoteAllowed: true, allowedHosts: ['mcp.example'] }),
    ).not.toThrow();
  });
});
