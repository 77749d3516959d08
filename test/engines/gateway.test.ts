/**
 * The serving-gateway stand-in (`otela gateway`) in front of a replica registered the way the otela
 * stand-in records it, and sml-mcp's gateway probe against it (the real HTTP on both sides).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeGateway } from '../../src/jobs/gateway-probe.js';

const OTELA = fileURLToPath(new URL('./bin/otela', import.meta.url));
const KEY = 'sk-research-0123456789abcdef';

describe('serving gateway stand-in and the gateway probe', () => {
  let replica: Server;
  let gateway: ResultPromise;
  let gatewayUrl: string;
  const asked: string[] = [];

  beforeAll(async () => {
    replica = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        asked.push(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [{ message: { content: 'Hello' } }] }));
      });
    });
    await new Promise<void>((resolve) => replica.listen(0, '127.0.0.1', resolve));
    const records = mkdtempSync(join(tmpdir(), 'sml-otela-records-'));
    const record = (name: string, service: object | null, model: string) =>
      writeFileSync(
        join(records, `otela-1-${name}.json`),
        JSON.stringify({ host: 'localhost', service, labels: { served_model_name: model } }),
      );
    record('n1', { name: 'llm', port: String((replica.address() as AddressInfo).port) }, 'alice/org/model');
    // A metrics-only follower registers no service: never a target.
    record('n2', null, 'alice/org/model');
    gateway = execa('python3', [OTELA, 'gateway', '--records', records], {
      env: { SML_GATEWAY_KEY: KEY },
      buffer: false,
    });
    gatewayUrl = await new Promise<string>((resolve, reject) => {
      gateway.stdout!.on('data', (chunk: Buffer) => {
        const match = /gateway listening on (http:\/\/\S+)/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      gateway.catch(reject);
    });
  });

  afterAll(() => {
    gateway?.kill();
    replica?.close();
  });

  it('needs the key, lists the served names and relays a completion to the registered replica', async () => {
    const anonymous = await request(`${gatewayUrl}/v1/models`);
    expect(anonymous.statusCode).toBe(401);
    await anonymous.body.dump();
    const models = await request(`${gatewayUrl}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(await models.body.json()).toMatchObject({ data: [{ id: 'alice/org/model' }] });
  });

  it('probe: answers through the gateway with one token, as SML checks it', async () => {
    const probe = await probeGateway(gatewayUrl, 'alice/org/model', KEY);
    expect(probe).toEqual({
      answers: true,
      http_status: 200,
      detail: `alice/org/model answered through ${gatewayUrl}`,
    });
    expect(JSON.parse(asked.at(-1)!)).toMatchObject({ model: 'alice/org/model', max_tokens: 1 });
  });

  it('probe: a wrong key, an unknown model and a dead gateway are reported, never the key', async () => {
    const refused = await probeGateway(gatewayUrl, 'alice/org/model', 'sk-wrong-key-0000');
    expect(refused).toMatchObject({ answers: false, http_status: 401 });
    expect(refused.detail).toMatch(/refused SML_SWISSAI_RESEARCH_API_KEY/);
    const unknown = await probeGateway(gatewayUrl, 'alice/org/other', KEY);
    expect(unknown).toMatchObject({ answers: false, http_status: 404 });
    const dead = await probeGateway('http://127.0.0.1:9', 'alice/org/model', KEY);
    expect(dead).toMatchObject({ answers: false, http_status: null });
    for (const probe of [refused, unknown, dead]) expect(JSON.stringify(probe)).not.toContain(KEY);
  });
});
