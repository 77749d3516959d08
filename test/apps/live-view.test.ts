/**
 * The live view in headless Chromium against the server on the in-memory scheduler (fast tier):
 * what the cluster e2e test (test/e2e/live-view.test.ts) cannot stage cheaply — a chain, a failed
 * job and its diagnosis, a host that asks the person itself (elicitation), the dark theme.
 */
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type CallToolResult, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LIVE_VIEW_URI } from '../../resources/uris.js';
import type { JobStatusView } from '../../src/jobs/types.js';
import { openApp, type TestHost } from '../helpers/app-host.js';
import { connect, createHarness, type Harness, submitRecordedJob } from '../mcp/harness.js';

/** What the page's callback uses of the browser's window (the tests type-check without the DOM). */
interface BrowserWindow {
  getComputedStyle(element: unknown): { backgroundColor: string };
}

const SHOTS = join(import.meta.dirname, '..', '..', 'test-output', 'live-view');

let harness: Harness;
let client: Client;
let host: TestHost | undefined;
const questions: string[] = [];

beforeAll(async () => {
  harness = createHarness();
  // A host that can ask its user: the server asks before it cancels; this user says no.
  client = await connect(harness.deps, { elicitation: { form: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    questions.push(request.params.message);
    return { action: 'decline' };
  });
});

afterAll(async () => {
  await host?.close();
  await client.close();
  harness.cleanup();
});

async function callTool<T>(name: string, args: Record<string, unknown>): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
  return result.structuredContent as T;
}

it('shows a chain and a diagnosed failure, and keeps a job the person declines to cancel', {
  timeout: 60_000,
}, async () => {
  const failed = await submitRecordedJob(harness, {
    banner: 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB',
    exitCode: 1,
    lines: 1,
    intervalS: 0,
  });
  const launch = await callTool<{ job_ids: string[] }>('launch', {
    model: 'swiss-ai/Apertus-8B-Instruct-2509',
    framework: 'sglang',
    system: 'local',
    time: '30:00:00',
    consecutive: true,
  });
  const chain = launch.job_ids;
  expect(chain.length).toBeGreaterThan(1);
  await expect
    .poll(
      async () => (await callTool<{ jobs: JobStatusView[] }>('status', { job_ids: [failed] })).jobs[0]!.phase,
    )
    .toBe('ended');

  // The host shows the view with the launch's result: the chain's first job is selected.
  host = await openApp(client, {
    uri: LIVE_VIEW_URI,
    toolInput: {},
    toolResult: { content: [{ type: 'text', text: 'launched' }], structuredContent: launch },
    theme: 'dark',
  });
  const { app } = host;
  // Running first, then the queue in the order it will run, then what ended.
  await expect
    .poll(() =>
      app
        .locator('tr[data-job-id]')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job-id'))),
    )
    .toEqual([...chain, failed]);
  const first = app.locator(`tr[data-job-id="${chain[0]}"]`);
  await expect.poll(() => first.getAttribute('aria-selected'), { timeout: 10_000 }).toBe('true');
  expect(await first.locator('[data-field=chain]').textContent()).toBe(`1/${chain.length}`);
  for (const jobId of chain.slice(1))
    expect(await app.locator(`tr[data-job-id="${jobId}"] [data-field=phase]`).textContent()).toBe('queued');
  // The schedule: the running first job, then the queued ones with the time each may run.
  const schedule = await app.locator('.chain li').allTextContents();
  expect(schedule).toHaveLength(chain.length);
  expect(schedule[0]).toMatch(new RegExp(`^job ${chain[0]}: starting since .+, \\d+h\\d\\dm left$`));
  expect(schedule[1]).toMatch(new RegExp(`^job ${chain[1]}: queued, runs up to \\d+h\\d\\dm$`));
  expect(await app.locator('#detail').textContent()).toContain('Engine charts appear once the job serves.');
  // The host's dark theme reaches the view.
  expect(
    await app
      .locator('body')
      .evaluate((body) => (globalThis as unknown as BrowserWindow).getComputedStyle(body).backgroundColor),
  ).toBe('rgb(13, 17, 23)');
  await host.screenshot(join(SHOTS, 'app-chain-dark.png'));

  // The failed job, picked with the keyboard: its diagnosis and no Cancel button.
  await app.locator(`tr[data-job-id="${failed}"]`).focus();
  await host.page.keyboard.press('Enter');
  await expect
    .poll(() => app.locator('#detail .error').textContent(), { timeout: 10_000 })
    .toContain('ran out of GPU memory');
  expect(await app.locator('[data-action=cancel]').count()).toBe(0);

  // Cancel through a host that asks its user: the server asks, the user declines, nothing stops.
  await first.click();
  await app.locator('[data-action=cancel]').click();
  await expect
    .poll(() => app.locator('.notice').textContent(), { timeout: 10_000 })
    .toBe('Not cancelled: the deployment keeps running.');
  expect(questions).toHaveLength(1);
  expect(questions[0]).toContain(chain.join(', '));
  const after = await callTool<{ jobs: JobStatusView[] }>('status', { job_ids: chain });
  expect(after.jobs.map((job) => job.phase)).not.toContain('ended');
  expect(host.requests).toEqual([]);
  expect(host.problems).toEqual([]);
  for (const jobId of chain) await harness.scheduler.cancel(jobId);
});
