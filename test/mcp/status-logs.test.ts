import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  createHarness,
  expectToolError,
  expectToolSuccess,
  type Harness,
  submitTestJob,
  textOf,
  waitUntilEnded,
} from './harness.js';

let harness: Harness;
let client: Client;

beforeAll(async () => {
  harness = createHarness();
  client = await connect(harness.deps);
});

afterAll(async () => {
  await client.close();
  harness.cleanup();
});

function submit(options: Parameters<typeof submitTestJob>[1] = {}): Promise<string> {
  return submitTestJob(harness, options);
}

describe('status', () => {
  it('reports a recorded job and lists it among all my jobs', async () => {
    const jobId = await submit({ lines: 20 });
    const one = expectToolSuccess(await client.callTool({ name: 'status', arguments: { job_ids: [jobId] } }));
    const [job] = one.jobs as { job_id: string; is_recorded_locally: boolean; served_model_name: string }[];
    expect(job).toMatchObject({
      job_id: jobId,
      is_recorded_locally: true,
      served_model_name: 'root/test/tiny',
    });
    expect(one.wait).toBeNull();

    const all = expectToolSuccess(await client.callTool({ name: 'status', arguments: {} }));
    expect((all.jobs as { job_id: string }[]).map((j) => j.job_id)).toContain(jobId);
  });

  it('answers an id neither SLURM nor sml-mcp knows with NOT_FOUND', async () => {
    const result = await client.callTool({ name: 'status', arguments: { job_ids: ['999999999'] } });
    expectToolError(result, 'NOT_FOUND');
  });

  it('needs job ids to wait for', async () => {
    expectToolError(
      await client.callTool({ name: 'status', arguments: { wait_until: 'ended' } }),
      'INVALID_ARGUMENT',
    );
  });

  it('waits until a job ends, sending increasing progress notifications at most once a second', async () => {
    const jobId = await submit({ lines: 4 });
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const result = await client.callTool(
      { name: 'status', arguments: { job_ids: [jobId], wait_until: 'ended', timeout_s: 240 } },
      CallToolResultSchema,
      { onprogress: (p) => progress.push(p), timeout: 260_000 },
    );
    const structured = expectToolSuccess(result);
    expect(structured.wait).toMatchObject({ target: 'ended', reached: true, timed_out: false });
    expect((structured.jobs as { phase: string }[])[0]!.phase).toBe('ended');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
    expect(progress[0]!.message).toContain(`job ${jobId}`);
    expect(progress[0]!.total).toBe(240);
  });

  it('reports a timed-out wait as such, without an error', async () => {
    const jobId = await submit({ lines: 60 });
    const result = await client.callTool({
      name: 'status',
      arguments: { job_ids: [jobId], wait_until: 'ended', timeout_s: 1 },
    });
    expect(expectToolSuccess(result).wait).toMatchObject({ reached: false, timed_out: true });
    expect(textOf(result)).toContain('call status with wait_until again');
  });

  it('stops waiting when the client cancels the request, and keeps serving', async () => {
    const jobId = await submit({ lines: 60 });
    const controller = new AbortController();
    const call = client.callTool(
      { name: 'status', arguments: { job_ids: [jobId], wait_until: 'ended', timeout_s: 300 } },
      CallToolResultSchema,
      { signal: controller.signal, onprogress: () => controller.abort('user pressed stop') },
    );
    await expect(call).rejects.toThrow();
    const after = await client.callTool({ name: 'status', arguments: { job_ids: [jobId] } });
    expect((expectToolSuccess(after).jobs as { phase: string }[])[0]!.phase).not.toBe('ended');
  });
});

describe('logs', () => {
  it('tails a log and follows it with the cursor', async () => {
    const jobId = await submit({ lines: 3, intervalS: 0 });
    await waitUntilEnded(client, jobId);
    const tail = await client.callTool({ name: 'logs', arguments: { job_id: jobId, tail_lines: 2 } });
    const chunk = expectToolSuccess(tail);
    expect(chunk.text).toBe('line 2\nline 3\n');
    expect(chunk.files).toEqual(
      expect.arrayContaining(['log.out', 'log.err', 'replica_0.out', 'replica_0.err']),
    );
    expect(textOf(tail)).toContain('line 3');

    const fromStart = expectToolSuccess(
      await client.callTool({ name: 'logs', arguments: { job_id: jobId, cursor: 0 } }),
    );
    expect(fromStart.text).toBe('line 1\nline 2\nline 3\n');
    expect(fromStart.next_cursor).toBe(fromStart.size);
    const nothingNew = expectToolSuccess(
      await client.callTool({ name: 'logs', arguments: { job_id: jobId, cursor: fromStart.next_cursor } }),
    );
    expect(nothingNew).toMatchObject({ text: '', has_more: false, next_cursor: fromStart.next_cursor });
  });

  it('reads in bounded chunks and says when there is more', async () => {
    const jobId = await submit({ lines: 3, intervalS: 0 });
    await waitUntilEnded(client, jobId);
    const first = expectToolSuccess(
      await client.callTool({ name: 'logs', arguments: { job_id: jobId, cursor: 0, max_bytes: 7 } }),
    );
    expect(first).toMatchObject({ text: 'line 1\n', next_cursor: 7, has_more: true });
  });

  it('says a log that is not written yet is missing', async () => {
    const jobId = await submit({ lines: 1, intervalS: 0 });
    const result = await client.callTool({ name: 'logs', arguments: { job_id: jobId, file: 'router.out' } });
    expect(expectToolSuccess(result)).toMatchObject({ is_missing: true, text: '' });
    expect(textOf(result)).toContain('does not exist yet');
  });

  it('refuses a path instead of a file name, and tail_lines with cursor', async () => {
    const jobId = await submit({ lines: 1, intervalS: 0 });
    expectToolError(
      await client.callTool({ name: 'logs', arguments: { job_id: jobId, file: '../../etc/passwd' } }),
      'INVALID_ARGUMENT',
    );
    expectToolError(
      await client.callTool({ name: 'logs', arguments: { job_id: jobId, tail_lines: 5, cursor: 0 } }),
      'INVALID_ARGUMENT',
    );
  });
});
