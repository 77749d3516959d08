/**
 * A system the FirecREST gateway does not serve: every per-system route answers 404 `System not
 * found` (the real server's dependency check), and the backend fails at once with a clear
 * configuration error instead of retrying or reading it as a missing job or file. No SLURM
 * command runs, so no cluster is needed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFirecrestScheduler, type FirecrestScheduler } from '../../src/scheduler/firecrest/index.js';
import { type FirecrestDouble, startFirecrestDouble } from '../doubles/firecrest/index.js';
import { rejection } from '../helpers/errors.js';

let double: FirecrestDouble;
let backend: FirecrestScheduler;

beforeAll(async () => {
  double = await startFirecrestDouble();
  backend = createFirecrestScheduler({
    url: double.url,
    system: 'nosuch',
    auth: {
      kind: 'client-credentials',
      tokenUri: double.tokenUri,
      clientId: double.clientId,
      clientSecret: double.clientSecret,
    },
    timeouts: { requestMs: 5000, retryBudgetMs: 20_000 },
    backoff: { baseDelayMs: 20, maxDelayMs: 200 },
  });
});

afterAll(async () => {
  await backend?.close();
  await double?.stop();
});

describe('FirecREST: a system the gateway does not serve', () => {
  it.each([
    ['partitions', () => backend.partitions()],
    ['a job status', () => backend.statuses(['12345'])],
    ['a file size', () => backend.fileSize('/users/x/log.out')],
    ['a file read', () => backend.readFile('/users/x/log.out', 0, 100)],
  ])('%s: one request, then NOT_CONFIGURED naming the system', async (_what, call) => {
    double.resetCounters();
    const error = await rejection(call());
    expect(error.code).toBe('NOT_CONFIGURED');
    expect(error.message).toMatch(/serves no system named 'nosuch' \(HTTP 404: System not found\)/);
    expect(error.userMessage).toMatch(/scheduler\.system/);
    const perSystem = double.requests.filter((r) => r.path.includes('/nosuch/'));
    expect(perSystem).toHaveLength(1);
    expect(double.counters.byStatus['404']).toBe(1);
  });
});
