import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logUri } from '../../resources/uris.js';
import { ResourceWatcher, watchHubFor } from '../../server/watch.js';
import { connect, createHarness, eventually, type Harness, submitTestJob } from './harness.js';

/** Subscriptions are checked, shared between sessions and bounded per session. */

let harness: Harness;
const clients: Client[] = [];

beforeAll(async () => {
  harness = createHarness();
  for (let i = 0; i < 3; i++) clients.push(await connect(harness.deps));
});

afterAll(async () => {
  for (const client of clients) await client.close();
  harness.cleanup();
});

describe('resource subscriptions', () => {
  it('refuse a job no one knows and a log file the job does not have', async () => {
    const jobId = await submitTestJob(harness, { lines: 1, intervalS: 0 });
    const [client] = clients;
    for (const uri of ['sml://jobs/999999999', logUri('999999999', 'log.out'), logUri(jobId, 'nope.out')]) {
      await expect(client!.subscribeResource({ uri })).rejects.toMatchObject({
        code: -32602,
        message: expect.stringMatching(/NOT_FOUND/),
      });
    }
    expect(watchHubFor(harness.deps.jobs, 0).size).toBe(0);
  });

  it('poll each resource once however many sessions subscribed, and tell every subscriber', async () => {
    const jobId = await submitTestJob(harness, { lines: 40, intervalS: 0.2 });
    const uri = logUri(jobId, 'log.out');
    const updates = clients.map(() => 0);
    clients.forEach((client, i) => {
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        if (n.params.uri === uri) updates[i]!++;
      });
    });
    for (const client of clients) {
      await client.subscribeResource({ uri });
      await client.subscribeResource({ uri: `sml://jobs/${jobId}` });
    }
    const hub = watchHubFor(harness.deps.jobs, 0);
    expect(hub.size).toBe(2);
    await eventually(async () => (updates.every((n) => n >= 2) ? true : undefined), 30_000);
    // One size probe of the log per tick for three subscribers.
    const logPath = harness.memory!.calls.find(
      (c) => c.method === 'fileSize' && String(c.args[0]).endsWith('/log.out'),
    )?.args[0] as string;
    const before = harness.memory!.calls.filter(
      (c) => c.method === 'fileSize' && c.args[0] === logPath,
    ).length;
    const ticksBefore = updates[0]!;
    await eventually(async () => (updates[0]! >= ticksBefore + 6 ? true : undefined), 30_000);
    const probes =
      harness.memory!.calls.filter((c) => c.method === 'fileSize' && c.args[0] === logPath).length - before;
    expect(probes).toBeLessThan(2 * (updates[0]! - ticksBefore) + 3);
    for (const client of clients) {
      await client.unsubscribeResource({ uri });
      await client.unsubscribeResource({ uri: `sml://jobs/${jobId}` });
    }
    expect(hub.size).toBe(0);
  });

  it('hold at most a bounded number per session', async () => {
    const jobId = await submitTestJob(harness, { lines: 1, intervalS: 0 });
    const notify = async () => undefined;
    const watcher = new ResourceWatcher(watchHubFor(harness.deps.jobs, 0), notify, 2);
    expect(await watcher.subscribe(`sml://jobs/${jobId}`)).toBe(true);
    expect(await watcher.subscribe(logUri(jobId, 'log.out'))).toBe(true);
    // Subscribing again to the same resource takes no new place.
    expect(await watcher.subscribe(logUri(jobId, 'log.out'))).toBe(true);
    await expect(watcher.subscribe(logUri(jobId, 'log.err'))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/already holds 2 subscriptions/),
    });
    watcher.close();
    expect(watchHubFor(harness.deps.jobs, 0).size).toBe(0);
  });
});
