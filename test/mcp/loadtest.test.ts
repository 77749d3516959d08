import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadTestView } from '../../src/loadtest/view.js';
import type { InMemoryScheduler } from '../doubles/scheduler/index.js';
import {
  connect,
  createHarness,
  expectToolError,
  expectToolSuccess,
  type Harness,
  submitRecordedJob,
} from './harness.js';

/**
 * The loadtest tool on the in-memory scheduler: what it stages and submits, how it reads the
 * generator's results file back as it grows (through the Scheduler seam, by byte offset), and what
 * it does when the deployment dies before serving. The generator itself runs in test/e2e.
 */

let harness: Harness;
let memory: InMemoryScheduler;
let client: Client;

beforeEach(async () => {
  harness = createHarness();
  memory = harness.memory!;
  client = await connect(harness.deps);
});

afterEach(async () => {
  await client.close();
  harness.cleanup();
});

async function loadtest(args: Record<string, unknown>): Promise<LoadTestView> {
  return expectToolSuccess(await client.callTool({ name: 'loadtest', arguments: args })) as never;
}

const STEP = {
  type: 'step',
  index: 0,
  concurrency: 4,
  rate: null,
  duration_s: 10,
  requests: 40,
  ok: 40,
  error_rate: 0,
  errors: {},
  requests_per_s: 4,
  output_tokens_per_s: 512,
  output_tokens_mean: 128,
  ttft_s: { p50: 0.2, p90: 0.25, p99: 0.3, mean: 0.21 },
  itl_s: { p50: 0.04, p90: 0.04, p99: 0.05, mean: 0.04 },
  e2e_s: { p50: 5.3, p90: 5.4, p99: 5.5, mean: 5.3 },
  engine_peak: { requests_running: 4, requests_queued: 0, kv_cache_usage: 0.1 },
};

describe('loadtest tool (in-memory scheduler)', () => {
  it('stages the generator and a one-task job after a queued deployment, then follows its results file', async () => {
    memory.isQueueHeld = true;
    const jobId = await submitRecordedJob(harness);
    const started = await loadtest({
      job_id: jobId,
      concurrency: [1, 4],
      duration_s: 10,
      target: { requests_per_s: 10 },
    });
    expect(started.phase).toBe('queued');
    const loadJob = memory.job(started.run.load_job_id!);
    expect(loadJob.request?.script).toContain(`#SBATCH --dependency=after:${jobId}`);
    expect(loadJob.request?.script).toContain('#SBATCH --ntasks=1');
    const runDir = started.run.results_path.replace(/\/results\.jsonl$/, '');
    const config = JSON.parse(memory.fileText(`${runDir}/config.json`)!);
    expect(config).toMatchObject({
      steps: [
        { concurrency: 1, duration_s: 10 },
        { concurrency: 4, duration_s: 10 },
      ],
      target: { health_report: expect.stringContaining(`/logs/${jobId}/replica_health.json`) },
    });
    expect(memory.fileText(`${runDir}/load_generator.py`)).toContain('def main(argv)');

    memory.releaseQueue();
    const results = started.run.results_path;
    memory.putFile(
      results,
      `${JSON.stringify({ type: 'start', url: 'http://10.77.0.11:8080/v1' })}\n{"type":"progress","step":0,`,
    );
    const running = await loadtest({ run_id: started.run_id, wait_s: 0 });
    expect(running.phase).toBe('running');
    expect(running.run.endpoint).toBe('http://10.77.0.11:8080/v1');
    expect(running.progress).toBeNull(); // the progress line is not whole yet

    memory.appendFile(
      results,
      `"elapsed_s":4,"duration_s":10,"completed":3,"errors":0,"in_flight":1}\n${JSON.stringify({ ...STEP, index: 0, concurrency: 1, requests_per_s: 1 })}\n${JSON.stringify({ ...STEP, index: 1 })}\n{"type":"end","ok":true,"error":null}\n`,
    );
    const done = await loadtest({ run_id: started.run_id, wait_s: 0 });
    expect(done.phase).toBe('completed');
    expect(done.steps.map((s) => s.requests_per_s)).toEqual([1, 4]);
    expect(done.recommend).toMatchObject({ basis_step: 1, replicas: 3 });
    expect(done.run.chart_path).toMatch(/lt-[a-z0-9]{10}\.svg$/);
    const chart = await client.readResource({ uri: done.run.chart_uri });
    expect((chart.contents[0] as { text: string }).text).toContain('<svg');
  });

  it('cancels the waiting load job when the deployment ends before it serves', async () => {
    memory.isQueueHeld = true;
    const jobId = await submitRecordedJob(harness);
    const started = await loadtest({ job_id: jobId });
    memory.end(jobId, 'NODE_FAIL');
    const view = await loadtest({ run_id: started.run_id, wait_s: 0 });
    expect(view.phase).toBe('failed');
    expect(view.error).toContain(`Job ${jobId} ended (node_fail) before it served`);
    expect(memory.job(started.run.load_job_id!).state).toBe('CANCELLED');
  });

  it('refuses a run id with start arguments, and an ended job', async () => {
    const jobId = await submitRecordedJob(harness);
    const started = await loadtest({ job_id: jobId });
    expectToolError(
      await client.callTool({ name: 'loadtest', arguments: { run_id: started.run_id, scenario: 'ramp' } }),
      'INVALID_ARGUMENT',
    );
    memory.end(jobId, 'FAILED');
    expectToolError(await client.callTool({ name: 'loadtest', arguments: { job_id: jobId } }), 'CONFLICT');
    expectToolError(
      await client.callTool({ name: 'loadtest', arguments: { job_id: jobId, scenario: 'fixed_rate' } }),
      'INVALID_ARGUMENT',
    );
  });
});
