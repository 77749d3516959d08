import { afterAll, describe, expect, it } from 'vitest';
import { createJobService } from '../../server/job-service.js';
import { createHarness } from '../mcp/harness.js';

/**
 * Status sweeps are shared: callers of one job service asking at once, and job services of other
 * sml-mcp processes on the same state directory (several `logs -f`) asking within the sweep TTL,
 * get one scheduler answer; a launch or cancel makes the next status ask the scheduler again.
 */
const harness = createHarness({ statusSweepTtlMs: 60_000 });
afterAll(() => harness.cleanup());

const statusCalls = () => harness.memory!.calls.filter((call) => call.method === 'statuses').length;

describe('status sweeps', () => {
  it('are shared by concurrent callers, by other services on the same state, and dropped by cancel', async () => {
    const memory = harness.memory!;
    memory.defaultProgram = (run) =>
      new Promise((resolve) => run.signal.addEventListener('abort', () => resolve(undefined)));
    const { job_ids } = await harness.deps.jobs.launch({
      model: 'swiss-ai/Apertus-8B-Instruct-2509',
      framework: 'sglang',
      system: 'local',
      time: '00:10:00',
    });
    const jobId = job_ids[0]!;
    const before = statusCalls();
    const views = await Promise.all(Array.from({ length: 5 }, () => harness.deps.jobs.status([jobId])));
    expect(views.every(([view]) => view?.job_id === jobId)).toBe(true);
    expect(statusCalls() - before).toBe(1);

    // Another process on the same state directory (its own job service) reads the shared sweep.
    const other = createJobService(harness.config, harness.deps.systems, harness.deps.catalog, {
      statusSweepTtlMs: 60_000,
    });
    expect((await other.status([jobId]))[0]?.job_id).toBe(jobId);
    expect(statusCalls() - before).toBe(1);

    await other.cancel(jobId);
    const [ended] = await harness.deps.jobs.status([jobId]);
    expect(ended?.end_reason).toBe('cancelled');
    expect(statusCalls() - before).toBeGreaterThan(1);
  });
});
