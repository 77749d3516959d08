import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { LoadTestView } from '../../src/loadtest/view.js';
import { connect, createHarness, expectToolSuccess, type Harness } from '../mcp/harness.js';

/**
 * Load tests through the MCP server on the local cluster, against stand-in engines told exactly
 * how fast to be: first token 0.2 s after admission, then 25 tokens/s per sequence, at most 2
 * sequences per replica (the rest queue). A 20-token answer therefore takes 0.2 + 19/25 = 0.96 s,
 * and one replica sustains at most 2 / 0.96 ≈ 2.08 requests/s. Stated tolerance: ±25% on rates.
 */

const TTFT_S = 0.2;
const TOKENS_PER_S = 25;
const MAX_TOKENS = 20;
const E2E_S = TTFT_S + (MAX_TOKENS - 1) / TOKENS_PER_S;
const TOLERANCE = 0.25;

let harness: Harness;
let client: Client;

beforeAll(async () => {
  harness = createHarness({ onCluster: true });
  client = await connect(harness.deps);
});

afterAll(async () => {
  await Promise.all(launched.map((id) => harness.scheduler.cancel(id).catch(() => undefined)));
  await client?.close();
  harness?.cleanup();
});

function deployment(replicas: number): Record<string, unknown> {
  return {
    model: 'swiss-ai/Apertus-8B-Instruct-2509',
    framework: 'sglang',
    system: 'local',
    time: '00:10:00',
    disable_opentela: true,
    replicas,
    ...(replicas > 1 ? { router: 'sglang' } : {}),
    framework_args: '--max-running-requests 2',
    pre_launch_cmds: `export SML_STANDIN_TTFT_S=${TTFT_S} SML_STANDIN_TOKENS_PER_S=${TOKENS_PER_S}`,
  };
}

const launched: string[] = [];

/** Launch a deployment and return its job id at once (the load test waits until it serves). */
async function launch(replicas: number): Promise<string> {
  const result = expectToolSuccess(
    await client.callTool({ name: 'launch', arguments: deployment(replicas) }),
  );
  const jobId = (result.job_ids as string[])[0]!;
  launched.push(jobId);
  return jobId;
}

async function loadtest(args: Record<string, unknown>): Promise<LoadTestView> {
  return expectToolSuccess(await client.callTool({ name: 'loadtest', arguments: args })) as never;
}

/** Follow a run in rounds of 50 s (a client gives up on one call after 60 s) until it ends. */
async function finished(runId: string): Promise<LoadTestView> {
  for (let round = 0; round < 6; round++) {
    const view = await loadtest({ run_id: runId, wait_s: 50 });
    if (!['queued', 'waiting', 'running'].includes(view.phase)) return view;
  }
  throw new Error(`load test ${runId} did not end within 5 minutes`);
}

function near(actual: number, expected: number): void {
  expect(actual).toBeGreaterThan(expected * (1 - TOLERANCE));
  expect(actual).toBeLessThan(expected * (1 + TOLERANCE));
}

describe('loadtest on the local cluster (stand-in engines with a set speed)', () => {
  let singleAtFour = 0;

  it('launches, sweeps 1/2/4 streams, and finds the stand-in’s rate, TTFT and its limit of 2', {
    timeout: 300_000,
  }, async () => {
    const jobId = await launch(1);
    // Its node is freed for the next test as soon as this one has measured.
    onTestFinished(() => harness.scheduler.cancel(jobId).then(() => undefined));
    const started = await loadtest({
      job_id: jobId,
      concurrency: [1, 2, 4],
      duration_s: 4,
      prompt_tokens: 16,
      max_tokens: MAX_TOKENS,
      target: { requests_per_s: 10, p99_ttft_s: 0.6 },
    });
    expect(started.run_id).toMatch(/^lt-[a-z0-9]{10}$/);
    expect(started.phase).toBe('queued');
    expect(started.run.job_id).toBe(jobId);

    const run = await finished(started.run_id);
    expect(run.error).toBeNull();
    expect(run.phase).toBe('completed');
    expect(run.run.endpoint).toMatch(/^http:\/\/10\.77\.0\.\d+:8080\/v1$/);
    const [one, two, four] = run.steps;
    for (const step of run.steps) expect(step.errors).toEqual({});

    near(one!.output_tokens_per_s, MAX_TOKENS / E2E_S);
    near(one!.requests_per_s, 1 / E2E_S);
    expect(one!.ttft_s.p50!).toBeGreaterThanOrEqual(TTFT_S);
    expect(one!.ttft_s.p50!).toBeLessThan(TTFT_S + 0.3);
    near(one!.itl_s.p50!, 1 / TOKENS_PER_S);
    near(two!.requests_per_s, 2 / E2E_S);
    // Past the limit of 2 the throughput stays, and requests wait one whole answer for a slot.
    near(four!.requests_per_s, 2 / E2E_S);
    expect(four!.ttft_s.p50!).toBeGreaterThan(E2E_S);
    expect(four!.engine_peak.requests_queued!).toBeGreaterThanOrEqual(1);
    expect(run.saturation?.concurrency).toBe(2);
    singleAtFour = four!.requests_per_s;

    const before = run.engine_metrics.before![0]!.generation_tokens_total!;
    const after = run.engine_metrics.after![0]!.generation_tokens_total!;
    const served = run.steps.reduce((sum, s) => sum + s.ok * MAX_TOKENS, 0);
    expect(after - before).toBeGreaterThanOrEqual(served);

    // 10 req/s within p99 TTFT 0.6 s: only c=1 and c=2 qualify; c=2 gives ≈ 2.08 req/s per replica.
    expect(run.recommend?.basis_step).toBe(1);
    expect(run.recommend?.replicas).toBe(Math.ceil(10 / two!.requests_per_s));
    expect(run.recommend?.arithmetic.join('\n')).toContain('⌈10 /');

    const json = await client.readResource({ uri: run.run.resource_uri });
    expect(JSON.parse((json.contents[0] as { text: string }).text).steps).toHaveLength(3);
    const chart = await client.readResource({ uri: run.run.chart_uri });
    expect(chart.contents[0]!.mimeType).toBe('image/svg+xml');
    expect((chart.contents[0] as { text: string }).text).toMatch(
      /^<svg[^>]*>[\s\S]*p99 TTFT[\s\S]*<\/svg>\n$/,
    );
  });

  it('measures about twice the throughput behind a router with two replicas', {
    timeout: 300_000,
  }, async () => {
    const pairId = await launch(2);
    onTestFinished(() => harness.scheduler.cancel(pairId).then(() => undefined));
    const started = await loadtest({
      job_id: pairId,
      concurrency: [4],
      duration_s: 4,
      prompt_tokens: 16,
      max_tokens: MAX_TOKENS,
    });
    const run = await finished(started.run_id);
    expect(run.error).toBeNull();
    expect(run.run.endpoint).toMatch(/^http:\/\/10\.77\.0\.\d+:30000\/v1$/);
    const [four] = run.steps;
    expect(four!.errors).toEqual({});
    near(four!.requests_per_s, 4 / E2E_S);
    near(four!.requests_per_s / singleAtFour, 2);
    expect(run.engine_metrics.before).toHaveLength(2);
  });
});
