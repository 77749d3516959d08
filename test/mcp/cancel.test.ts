import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  createHarness,
  eventually,
  expectToolError,
  expectToolSuccess,
  type Harness,
  submitTestJob,
  waitUntilEnded,
} from './harness.js';

let harness: Harness;
let plainClient: Client;

beforeAll(async () => {
  harness = createHarness();
  plainClient = await connect(harness.deps);
});

afterAll(async () => {
  await plainClient.close();
  harness.cleanup();
});

function runningJob(options: Parameters<typeof submitTestJob>[1] = {}): Promise<string> {
  return submitTestJob(harness, { lines: 120, ...options });
}

async function slurmState(jobId: string): Promise<string | undefined> {
  return (await harness.scheduler.statuses([jobId])).get(jobId)?.state;
}

/** scancel is asynchronous: the job passes through COMPLETING before SLURM says CANCELLED. */
async function expectCancelled(jobId: string): Promise<void> {
  await eventually(async () => ((await slurmState(jobId)) === 'CANCELLED' ? true : undefined));
}

/** A client whose user answers the confirmation question with `answer`. */
async function clientAnswering(answer: ElicitResult, questions: string[]): Promise<Client> {
  const client = await connect(harness.deps, { elicitation: { form: {} } });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    questions.push(request.params.message);
    return answer;
  });
  return client;
}

describe('cancel', () => {
  it('refuses without confirmation when the client cannot ask the user, and leaves the job running', async () => {
    const jobId = await runningJob();
    const result = await plainClient.callTool({ name: 'cancel', arguments: { job_id: jobId } });
    expectToolError(result, 'CONFIRMATION_REQUIRED');
    expect(await slurmState(jobId)).not.toBe('CANCELLED');
  });

  it('cancels with confirm: true when the client cannot ask the user', async () => {
    const jobId = await runningJob();
    const result = await plainClient.callTool({
      name: 'cancel',
      arguments: { job_id: jobId, confirm: true },
    });
    const structured = expectToolSuccess(result);
    expect(structured).toMatchObject({ outcome: 'cancelled', confirmed_by: 'argument' });
    expect(structured.results).toEqual([
      { job_id: jobId, cancelled: true, already_ended: false, note: null },
    ]);
    await expectCancelled(jobId);
  });

  it('asks the user through elicitation and cancels when they accept', async () => {
    const jobId = await runningJob();
    const questions: string[] = [];
    const client = await clientAnswering({ action: 'accept', content: { confirm: true } }, questions);
    const result = await client.callTool({ name: 'cancel', arguments: { job_id: jobId } });
    expect(expectToolSuccess(result)).toMatchObject({ outcome: 'cancelled', confirmed_by: 'user' });
    expect(questions).toHaveLength(1);
    expect(questions[0]).toContain(jobId);
    await expectCancelled(jobId);
    await client.close();
  });

  it('leaves the job running when the user declines, even if the agent passed confirm: true', async () => {
    const jobId = await runningJob();
    const questions: string[] = [];
    const client = await clientAnswering({ action: 'decline' }, questions);
    const result = await client.callTool({ name: 'cancel', arguments: { job_id: jobId, confirm: true } });
    expect(expectToolSuccess(result)).toMatchObject({ outcome: 'declined', confirmed_by: null, results: [] });
    expect(questions).toHaveLength(1);
    expect(await slurmState(jobId)).not.toBe('CANCELLED');
    await client.close();
  });

  it('never cancels a job sml-mcp did not launch unless allow_foreign is given', async () => {
    const jobId = await runningJob({ isForeign: true });
    const refused = await plainClient.callTool({
      name: 'cancel',
      arguments: { job_id: jobId, confirm: true },
    });
    expectToolError(refused, 'NOT_OWNED');
    expect(await slurmState(jobId)).not.toBe('CANCELLED');

    const allowed = await plainClient.callTool({
      name: 'cancel',
      arguments: { job_id: jobId, confirm: true, allow_foreign: true },
    });
    expect(expectToolSuccess(allowed)).toMatchObject({ outcome: 'cancelled' });
    await expectCancelled(jobId);
  });

  it('treats cancelling an ended job as a no-op', async () => {
    const jobId = await runningJob({ lines: 1, intervalS: 0 });
    await waitUntilEnded(plainClient, jobId);
    const result = await plainClient.callTool({
      name: 'cancel',
      arguments: { job_id: jobId, confirm: true },
    });
    expect((expectToolSuccess(result).results as { already_ended: boolean }[])[0]!.already_ended).toBe(true);
  });
});
