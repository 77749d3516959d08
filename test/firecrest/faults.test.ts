/**
 * The FirecREST client against the double's fault switches: 5xx bursts, 429 + Retry-After, token
 * expiry, dropped connections around a submit, a server that stops answering, API-key scoping.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmlError } from '../../src/errors.js';
import type { FirecrestScheduler } from '../../src/scheduler/firecrest/index.js';
import type { FirecrestDouble } from '../doubles/firecrest/index.js';
import { describeOnCluster, runOnCluster } from '../helpers/cluster.js';
import { backendFor, sleepScript, startDouble, waitUntilListed } from './harness.js';

/** Tags unique to this run: earlier runs' jobs stay listed for a while. */
const RUN = Date.now().toString(36).slice(-6);

async function failureOf(promise: Promise<unknown>): Promise<SmlError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SmlError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('FirecREST client: faults without the cluster', () => {
  let double: FirecrestDouble;
  let backend: FirecrestScheduler;
  let logPath: string;
  const logText = `${'line of log output █ é\n'.repeat(2000)}the end\n`;

  beforeAll(async () => {
    double = await startDouble();
    backend = backendFor(double);
    logPath = posix.join(double.home, 'faults.log');
    await writeFile(logPath, logText);
  });

  afterEach(() => double.faults.clear());

  afterAll(async () => {
    await backend?.close();
    await double?.stop();
  });

  it('rides out a burst of 5xx answers while reading a log', async () => {
    double.resetCounters();
    double.faults.failNext(2, { status: 503, match: { path: '/ops/' } });
    double.faults.failNext(2, { status: 500, match: { path: '/ops/' } });
    double.faults.failNext(1, { status: 502, match: { path: '/ops/' } });
    const chunk = await backend.readFile(logPath, 0, 1024 * 1024);
    expect(chunk.data.toString('utf8')).toBe(logText);
    expect(double.counters.byStatus['503']).toBe(2);
    expect(double.counters.byStatus['500']).toBe(2);
    expect(double.counters.byStatus['502']).toBe(1);
  });

  it('waits as long as a 429 Retry-After in seconds says before asking again', async () => {
    double.faults.rateLimitNext(1, { retryAfter: 1, match: { path: '/ops/stat' } });
    const started = Date.now();
    expect(await backend.fileSize(logPath)).toBe(Buffer.byteLength(logText));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('waits until the HTTP date a 429 Retry-After names', async () => {
    const until = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
    double.faults.rateLimitNext(1, { retryAfter: until, match: { path: '/ops/stat' } });
    expect(await backend.fileSize(logPath)).toBe(Buffer.byteLength(logText));
    expect(Date.now()).toBeGreaterThanOrEqual(until.getTime());
  });

  it('gives up with RATE_LIMITED at once when Retry-After exceeds the retry budget', async () => {
    double.faults.rateLimitNext(1, { retryAfter: 3600, match: { path: '/ops/stat' } });
    const error = await failureOf(backend.fileSize(logPath));
    expect(error.code).toBe('RATE_LIMITED');
    expect(error.message).toContain('3600 s');
  });

  it('renews a token that expires mid-run (401 once, a fresh token, the call succeeds)', async () => {
    await backend.fileSize(logPath);
    double.resetCounters();
    double.faults.expireTokens();
    expect(await backend.fileSize(logPath)).toBe(Buffer.byteLength(logText));
    expect(double.counters.byStatus['401']).toBe(1);
    expect(double.counters.tokensIssued).toBe(1);
  });

  it('refreshes short-lived tokens before they expire, sharing one refresh between concurrent calls', async () => {
    const shortLived = await startDouble({ tokenLifetimeSeconds: 2, minTokenTtlSeconds: 0.2 });
    const client = backendFor(shortLived);
    try {
      const path = posix.join(shortLived.home, 'x.txt');
      await writeFile(path, 'x');
      for (let round = 0; round < 4; round++) {
        const sizes = await Promise.all([1, 2, 3, 4, 5].map(() => client.fileSize(path)));
        expect(sizes).toEqual([1, 1, 1, 1, 1]);
        await new Promise((resolve) => setTimeout(resolve, 700));
      }
      expect(shortLived.counters.byStatus['401']).toBeUndefined();
      expect(shortLived.counters.tokensIssued).toBeGreaterThanOrEqual(2);
      // One refresh per due time, not one per concurrent caller.
      expect(shortLived.counters.tokensIssued).toBeLessThanOrEqual(4);
    } finally {
      await client.close();
      await shortLived.stop();
    }
  });

  it('reports refused client credentials as AUTH_FAILED without the secret and without retrying', async () => {
    const wrong = backendFor(double, {
      auth: {
        kind: 'client-credentials',
        tokenUri: double.tokenUri,
        clientId: double.clientId,
        clientSecret: 'not-the-secret-4711',
      },
    });
    try {
      double.resetCounters();
      const error = await failureOf(wrong.fileSize(logPath));
      expect(error.code).toBe('AUTH_FAILED');
      expect(error.message).toContain('HTTP 401');
      expect(
        JSON.stringify({ m: error.userMessage, d: error.details, s: error.serverMessage }),
      ).not.toContain('not-the-secret-4711');
      expect(double.counters.requests).toBe(1);
    } finally {
      await wrong.close();
    }
  });

  it('gives a clear TIMEOUT within the configured bound when the server stops answering', async () => {
    const impatient = backendFor(double, { timeouts: { requestMs: 400, retryBudgetMs: 1200 } });
    try {
      await impatient.fileSize(logPath);
      double.faults.hangNext(1000, { path: '/ops/' });
      const error = await failureOf(impatient.readFile(logPath, 0, 1000));
      expect(error.code).toBe('TIMEOUT');
      expect(error.message).toMatch(
        /did not answer the request to read the size of .*no answer within 0\.4 s/,
      );
      expect(error.hint).toBeTruthy();
    } finally {
      await impatient.close();
    }
  });

  it('does not repeat a submit whose answer never came when the job list cannot be read either', async () => {
    const impatient = backendFor(double, { timeouts: { requestMs: 400, retryBudgetMs: 1200 } });
    try {
      double.resetCounters();
      double.faults.hangNext(1000, { path: '/compute/' });
      const error = await failureOf(
        impatient.submit({
          script: sleepScript(1),
          scriptPath: posix.join(double.home, '.sml', 'hang.sh'),
          workingDir: posix.join(double.home, '.sml'),
          tag: `sml-mcp:hang0001${RUN}:0`,
        }),
      );
      expect(error.code).toBe('TIMEOUT');
      expect(error.message).toContain('may or may not have been queued');
      expect(error.isAmbiguous).toBe(true);
      expect(double.requests.filter((r) => r.method === 'POST' && r.path.includes('/compute/'))).toHaveLength(
        1,
      );
    } finally {
      await impatient.close();
    }
  });
});

describe('FirecREST client: API-key mode', () => {
  const apiKey = 'sml-test-api-key-0123456789';
  let double: FirecrestDouble;
  let elsewhere: Server;
  let elsewhereUrl: string;
  const seenElsewhere: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    double = await startDouble({ apiKeys: [apiKey] });
    elsewhere = createServer((req, res) => {
      seenElsewhere.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ output: { size: 4242 } }));
    });
    // Another host: 127.0.0.2 is loopback too, but not the FirecREST host.
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.2', resolve));
    elsewhereUrl = `http://127.0.0.2:${(elsewhere.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await double?.stop();
    await new Promise((resolve) => elsewhere?.close(resolve));
  });

  it('sends X-API-Key to the FirecREST host only, never to a host a redirect points at', async () => {
    const backend = backendFor(double, { auth: { kind: 'api-key', apiKey } });
    try {
      const path = posix.join(double.home, 'k.txt');
      await writeFile(path, 'key');
      double.resetCounters();
      expect(await backend.fileSize(path)).toBe(3);
      double.faults.redirectNext(1, `${elsewhereUrl}/presigned/object`, { path: '/ops/stat' });
      expect(await backend.fileSize(path)).toBe(4242);
      expect(double.requests).toHaveLength(2);
      for (const seen of double.requests) {
        expect(seen.headers['x-api-key']).toBe(apiKey);
        expect(seen.headers.authorization).toBeUndefined();
      }
      expect(seenElsewhere).toHaveLength(1);
      expect(seenElsewhere[0]!['x-api-key']).toBeUndefined();
      expect(seenElsewhere[0]!.authorization).toBeUndefined();
      expect(double.counters.tokensIssued).toBe(0);
    } finally {
      await backend.close();
    }
  });

  it('keeps the key out of error messages even when the server echoes it', async () => {
    const backend = backendFor(double, { auth: { kind: 'api-key', apiKey } });
    try {
      double.faults.failNext(1, {
        status: 400,
        message: `bad request from key ${apiKey}`,
        match: { path: '/ops/stat' },
      });
      const error = await failureOf(backend.fileSize(posix.join(double.home, 'k.txt')));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toContain('[redacted]');
      expect(
        JSON.stringify({ m: error.userMessage, d: error.details, s: error.serverMessage }),
      ).not.toContain(apiKey);
    } finally {
      await backend.close();
    }
  });

  it('reports a wrong API key as AUTH_FAILED naming the variable to check', async () => {
    const backend = backendFor(double, { auth: { kind: 'api-key', apiKey: 'wrong-key-000000' } });
    try {
      const error = await failureOf(backend.fileSize(posix.join(double.home, 'k.txt')));
      expect(error.code).toBe('AUTH_FAILED');
      expect(error.hint).toContain('SML_FIRECREST_API_KEY');
    } finally {
      await backend.close();
    }
  });
});

describeOnCluster('FirecREST client: faults around jobs on the local cluster', () => {
  let double: FirecrestDouble;
  let backend: FirecrestScheduler;
  const submitted: string[] = [];

  beforeAll(async () => {
    double = await startDouble();
    backend = backendFor(double);
  });

  afterEach(() => double.faults.clear());

  afterAll(async () => {
    if (submitted.length > 0) await runOnCluster('scancel', submitted);
    await backend?.close();
    await double?.stop();
  });

  async function jobsTagged(tag: string): Promise<string[]> {
    const result = await runOnCluster('squeue', ['-h', '--states=all', '-o', '%i %k']);
    return result.stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([, comment]) => comment === tag)
      .map(([id]) => id!);
  }

  async function submitTagged(tag: string) {
    const workingDir = posix.join(double.home, '.sml');
    const result = await backend.submit({
      script: sleepScript(15),
      scriptPath: posix.join(workingDir, `${tag.replaceAll(':', '_')}.sh`),
      workingDir,
      tag,
    });
    submitted.push(result.jobId);
    return result;
  }

  it('rides out a 5xx burst during a status sweep', async () => {
    const first = await submitTagged(`sml-mcp:burst001${RUN}:0`);
    const second = await submitTagged(`sml-mcp:burst001${RUN}:1`);
    await waitUntilListed(backend, [first.jobId, second.jobId]);
    double.resetCounters();
    double.faults.failNext(2, { status: 503, match: { path: '/compute/' } });
    double.faults.failNext(1, {
      status: 500,
      message: 'Error executing Slurm command.',
      match: { path: '/compute/' },
    });
    const statuses = await backend.statuses([first.jobId, second.jobId]);
    expect([...statuses.keys()].sort()).toEqual([first.jobId, second.jobId].sort());
    expect(statuses.get(first.jobId)?.comment).toBe(`sml-mcp:burst001${RUN}:0`);
    expect(double.counters.byStatus['503']).toBe(2);
    expect(double.counters.byStatus['500']).toBe(1);
  });

  it('leaves exactly one job when the connection drops after the submit reached SLURM', async () => {
    const tag = `sml-mcp:drop0001${RUN}:0`;
    double.resetCounters();
    double.faults.dropNext(1, { afterAction: true, match: { method: 'POST', path: '/compute/' } });
    const result = await submitTagged(tag);
    expect(double.counters.submits).toBe(1);
    expect(await jobsTagged(tag)).toEqual([result.jobId]);
  });

  it('leaves exactly one job when a gateway answers 504 after the submit reached SLURM', async () => {
    const tag = `sml-mcp:gate0001${RUN}:0`;
    double.resetCounters();
    double.faults.failAfterAction(1, { status: 504, match: { method: 'POST', path: '/compute/' } });
    const result = await submitTagged(tag);
    expect(double.counters.submits).toBe(1);
    expect(await jobsTagged(tag)).toEqual([result.jobId]);
  });

  it('submits again, once, when a 500 came before anything was queued', async () => {
    const tag = `sml-mcp:retry001${RUN}:0`;
    double.resetCounters();
    double.faults.failNext(1, { status: 500, match: { method: 'POST', path: '/compute/' } });
    const result = await submitTagged(tag);
    expect(double.counters.byStatus['500']).toBe(1);
    expect(double.counters.submits).toBe(1);
    expect(await jobsTagged(tag)).toEqual([result.jobId]);
  });

  it('does not retry a submit that sbatch refused', async () => {
    double.resetCounters();
    const workingDir = posix.join(double.home, '.sml');
    const error = await failureOf(
      backend.submit({
        script: sleepScript(1).replace('#SBATCH --time=00:05:00', '#SBATCH --partition=nosuchpartition'),
        scriptPath: posix.join(workingDir, 'refused.sh'),
        workingDir,
        tag: `sml-mcp:refuse01${RUN}:0`,
      }),
    );
    expect(error.code).toBe('SUBMIT_FAILED');
    expect(error.message).toContain('sbatch: error');
    expect(double.counters.submits).toBe(1);
  });
});
