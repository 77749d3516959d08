/**
 * The live views as a person sees them, against the built server on the local cluster: the MCP App
 * in headless Chromium behind ext-apps' AppBridge, and `sml-mcp top` in a tmux pseudo-terminal.
 * One deployment is launched, loaded with concurrent streaming requests, and cancelled from the
 * app's Cancel button; both views must follow it. Screenshots land in test-output/live-view/.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LIVE_VIEW_URI, metricsUri } from '../../resources/uris.js';
import type { JobStatusView, MetricsSnapshotView } from '../../src/jobs/types.js';
import { openApp, type TestHost } from '../helpers/app-host.js';
import { CLI } from '../helpers/cli.js';
import { clusterEnv, describeOnCluster, waitFor } from '../helpers/cluster.js';

const REPO = join(import.meta.dirname, '..', '..');
const SHOTS = join(REPO, 'test-output', 'live-view');
const run = promisify(execFile);

/** Each stand-in sequence decodes 30 tokens/s and at most 2 run at once: 6 requests of 20 s keep 4 queued for 20 s. */
const ENGINE = 'export SML_STANDIN_TOKENS_PER_S=30 SML_STANDIN_MAX_RUNNING=2 SML_STANDIN_TTFT_S=0.2';
const LOAD_REQUESTS = 6;
const TOKENS_PER_REQUEST = 600;

let dir: string;
let client: Client;
let host: TestHost | undefined;
const tmuxSocket = `sml-live-view-${process.pid}`;
const launched: string[] = [];

function serverEnv(): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    ...clusterEnv(),
    HOME: dir,
    SML_CONFIG_DIR: dir,
    SML_SYSTEM: 'local',
  };
}

async function callTool<T>(name: string, args: Record<string, unknown>): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((item) => (item.type === 'text' ? item.text : '')).join('\n');
  expect(result.isError, text).toBeFalsy();
  return result.structuredContent as T;
}

async function statusOf(jobId: string): Promise<JobStatusView> {
  const { jobs } = await callTool<{ jobs: JobStatusView[] }>('status', { job_ids: [jobId] });
  return jobs[0]!;
}

function tmux(...args: string[]) {
  return run('tmux', ['-L', tmuxSocket, '-f', '/dev/null', ...args]);
}

async function pane(): Promise<string> {
  return (await tmux('capture-pane', '-p', '-t', 'top')).stdout;
}

/** The pane line of a job, split into its columns (two or more spaces apart); the screen when absent. */
function paneRow(screen: string, jobId: string): string[] {
  const line = screen.split('\n').find((text) => text.startsWith(`${jobId} `));
  if (!line) throw new Error(`job ${jobId} is not on the screen:\n${screen}`);
  return line.trim().split(/\s{2,}/);
}

/** Streaming chat requests of `tokens` tokens each, generated at the engine's pace. */
function requestTokens(endpoint: string, model: string, count: number, tokens: number): Promise<unknown> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const response = await fetch(`${endpoint}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          messages: [{ role: 'user', content: `load ${i}` }],
          max_tokens: tokens,
          ignore_eos: true,
          stream: true,
        }),
      });
      await response.text();
    }),
  );
}

describeOnCluster('the live views of a deployment', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'sml-live-view-'));
    client = new Client({ name: 'live-view-test-host', version: '0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'serve'],
        env: serverEnv(),
        stderr: 'ignore',
      }),
    );
  });

  afterAll(async () => {
    await host?.close();
    await tmux('kill-server').catch(() => undefined);
    for (const id of launched) await callTool('cancel', { job_id: id, confirm: true }).catch(() => undefined);
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('status and launch point hosts to a self-contained ui:// app that declares no network access', async () => {
    const { tools } = await client.listTools();
    for (const name of ['status', 'launch'])
      expect(tools.find((t) => t.name === name)?._meta).toMatchObject({ ui: { resourceUri: LIVE_VIEW_URI } });
    expect(tools.find((t) => t.name === 'logs')?._meta).toBeUndefined();
    const { contents } = await client.readResource({ uri: LIVE_VIEW_URI });
    expect(contents[0]).toMatchObject({
      mimeType: 'text/html;profile=mcp-app',
      _meta: { ui: { csp: { connectDomains: [], resourceDomains: [] } } },
    });
    const html = (contents[0] as { text: string }).text;
    expect(html).toMatch(/^<!doctype html>/i);
    // Nothing to fetch: no external script, stylesheet or import (the browser test checks the rest).
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?https?:/);
  });

  it('a launch shows up in the app and in top within one refresh, charts move under load, Cancel ends it', {
    timeout: 240_000,
  }, async () => {
    // Both views are open before the launch, as a person would have them.
    const opened = await callTool<{ jobs: JobStatusView[] }>('status', {});
    host = await openApp(client, {
      uri: LIVE_VIEW_URI,
      toolInput: {},
      toolResult: { content: [{ type: 'text', text: 'status' }], structuredContent: opened },
    });
    await tmux(
      'new-session',
      '-d',
      '-s',
      'top',
      '-x',
      '150',
      '-y',
      '14',
      '--',
      'env',
      ...Object.entries(serverEnv())
        .filter(([key]) => /^(PATH|HOME|SLURM_.*|SML_.*)$/.test(key))
        .map(([key, value]) => `${key}=${value}`),
      process.execPath,
      CLI,
      'top',
      '--interval',
      '2',
    );
    await tmux('set-option', '-t', 'top', 'remain-on-exit', 'on');

    const launch = await callTool<{ job_ids: string[]; served_model_name: string }>('launch', {
      model: 'swiss-ai/Apertus-8B-Instruct-2509',
      framework: 'sglang',
      time: '00:10:00',
      pre_launch_cmds: ENGINE,
    });
    const jobId = launch.job_ids[0]!;
    launched.push(jobId);
    const row = host.app.locator(`tr[data-job-id="${jobId}"]`);
    // One refresh is 4 s in the app and 2 s in top; the bound leaves room for a busy machine.
    await row.waitFor({ timeout: 15_000 });
    await waitFor(async () => paneRow(await pane(), jobId), {
      timeoutMs: 15_000,
      what: `job ${jobId} in top`,
    });

    const serving = await waitFor(
      async () => {
        const job = await statusOf(jobId);
        return job.phase === 'serving' && job.endpoints.length > 0 ? job : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: `job ${jobId} serving` },
    );
    // The row says what the status tool says.
    await expect
      .poll(() => row.locator('[data-field=phase]').textContent(), { timeout: 15_000 })
      .toBe('serving');
    expect(await row.locator('[data-field=model]').textContent()).toBe(serving.served_model_name);
    expect(await row.locator('[data-field=replicas]').textContent()).toBe(
      `${serving.replicas_healthy}/${serving.replicas_expected} healthy`,
    );
    const endpoint = serving.endpoints.find((e) => e.kind === 'router') ?? serving.endpoints[0]!;
    expect(await row.locator('[data-field=endpoint]').textContent()).toBe(endpoint.url);
    await row.click();

    const replica = serving.endpoints.find((e) => e.kind === 'replica')!;
    // Two short requests first: engines count a request's time to first token when it finishes.
    await requestTokens(replica.url, serving.served_model_name, 2, 15);
    // Cancelling cuts the long streams; their errors are expected.
    const load = requestTokens(
      replica.url,
      serving.served_model_name,
      LOAD_REQUESTS,
      TOKENS_PER_REQUEST,
    ).catch(() => undefined);
    // Steady load: 2 running, 4 queued. The chart's latest points and the metrics resource agree.
    const requests = host.app.locator('[data-chart=requests]');
    await expect
      .poll(() => requests.locator('[data-series=queued]').getAttribute('data-last'), { timeout: 20_000 })
      .toBe(String(LOAD_REQUESTS - 2));
    expect(await requests.locator('[data-series=running]').getAttribute('data-last')).toBe('2');
    const snapshot = JSON.parse(
      ((await client.readResource({ uri: metricsUri(jobId) })).contents[0] as { text: string }).text,
    ) as MetricsSnapshotView;
    expect(snapshot.replicas[0]).toMatchObject({ requests_running: 2, requests_queued: LOAD_REQUESTS - 2 });
    // No request finishes during the steady state, so TTFT stays what the two short ones made it.
    const ttft = snapshot.replicas[0]!.ttft_seconds;
    expect(ttft.p50).toBeGreaterThan(0);
    for (const [series, value] of [
      ['p50', ttft.p50],
      ['p99', ttft.p99],
    ] as const)
      expect(
        Number(await host.app.locator(`[data-chart=ttft] [data-series=${series}]`).getAttribute('data-last')),
      ).toBeCloseTo(value!, 6);
    const tokens = host.app.locator('[data-chart=tokens_per_s] [data-series=generated]');
    await expect
      .poll(async () => Number(await tokens.getAttribute('data-last')), { timeout: 20_000 })
      .toBeGreaterThan(20);
    expect(Number(await tokens.getAttribute('data-points'))).toBeGreaterThanOrEqual(2);
    // top shows the same job moving: tokens/s and the queue.
    const topRow = await waitFor(
      async () => {
        const cells = paneRow(await pane(), jobId);
        return Number(cells[4]) > 0 && cells[6] === String(LOAD_REQUESTS - 2) ? cells : undefined;
      },
      { timeoutMs: 20_000, what: `tokens/s and the queue of job ${jobId} in top` },
    );
    expect(topRow.slice(2, 4)).toEqual([
      'serving',
      `${serving.replicas_healthy}/${serving.replicas_expected}`,
    ]);
    expect(topRow[9]).toMatch(/^\d+m\d\ds$/);
    // The screen holds the table and nothing else: header on the first line, no stray output.
    const screen = await pane();
    expect(screen.split('\n')[0]).toMatch(/^sml-mcp top — \d+ job\(s\) — /);
    expect(screen).not.toMatch(/warning|error/i);
    await host.screenshot(join(SHOTS, 'app-serving.png'));
    await host.screenshotTerminal((await pane()).trimEnd(), join(SHOTS, 'top-serving.png'));

    // The log view follows the job's files; the picker switches between them.
    const log = host.app.locator('#log');
    await expect
      .poll(() => log.locator('select option').allTextContents(), { timeout: 10_000 })
      .toContain('replica_0.err');
    await log.locator('select').selectOption('replica_0.err');
    await expect
      .poll(() => log.locator('pre').textContent(), { timeout: 10_000 })
      .toContain('/v1/chat/completions');

    // Cancel: this host cannot ask the person (no elicitation), so the server wants confirmation
    // and the app asks with the server's words before it calls cancel again with confirm: true.
    await host.app.locator('[data-action=cancel]').click();
    const confirm = host.app.locator('[role=alertdialog]');
    await expect.poll(() => confirm.textContent(), { timeout: 15_000 }).toContain(jobId);
    await host.screenshot(join(SHOTS, 'app-confirm-cancel.png'));
    await confirm.locator('[data-action=confirm-cancel]').click();
    await expect
      .poll(() => row.locator('[data-field=phase]').textContent(), { timeout: 30_000 })
      .toBe('ended (cancelled)');
    expect(await statusOf(jobId)).toMatchObject({ phase: 'ended', end_reason: 'cancelled' });
    // The charts stay, marked as the past; no replica is reported healthy any more.
    await expect
      .poll(() => host!.app.locator('#detail').textContent(), { timeout: 10_000 })
      .toContain('The last figures before the job ended:');
    expect(await host.app.locator('#detail .replicas').count()).toBe(0);
    await waitFor(async () => paneRow(await pane(), jobId)[2] === 'ended(cancelled)', {
      timeoutMs: 15_000,
      what: `job ${jobId} ended in top`,
    });
    await load;
    await host.screenshot(join(SHOTS, 'app-cancelled.png'));

    // Ctrl-C leaves top and gives the terminal its screen back.
    await tmux('send-keys', '-t', 'top', 'C-c');
    await waitFor(async () => !(await pane()).includes('sml-mcp top'), {
      timeoutMs: 10_000,
      what: 'top to exit',
    });

    // What the app relayed: only tool calls and resource reads, and no network of its own.
    expect(new Set(host.relayed.map((call) => call.split(' ')[0]))).toEqual(
      new Set(['tools/call', 'resources/read']),
    );
    expect(host.relayed).toContain(`resources/read ${metricsUri(jobId)}`);
    expect(host.requests).toEqual([]);
    expect(host.problems).toEqual([]);
  });

  it('status --watch prints plain lines when stdout is not a terminal', async () => {
    const watch = execa(process.execPath, [CLI, 'status', '--watch', '--interval', '1'], {
      env: serverEnv(),
      reject: false,
    });
    const lines: string[] = [];
    watch.stdout!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    await waitFor(() => lines.length >= 2, { timeoutMs: 20_000, what: 'two refreshes' });
    watch.kill('SIGINT');
    const result = await watch;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain('\x1b');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d (job \d+ |no sml-mcp jobs)/);
    expect(result.stdout).toContain(`job ${launched[0]} `);
  });
});
