import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/assets.js';
import { SmlError } from '../../src/errors.js';
import type { InMemoryScheduler } from '../doubles/scheduler/index.js';
import {
  connect,
  createHarness,
  expectToolError,
  expectToolSuccess,
  type Harness,
  textOf,
} from './harness.js';

/** launch through the MCP server and the real launcher, on the in-memory scheduler. */
let harness: Harness;
let memory: InMemoryScheduler;
let client: Client;

beforeAll(async () => {
  harness = createHarness();
  memory = harness.memory!;
  client = await connect(harness.deps);
});

afterAll(async () => {
  await client.close();
  harness.cleanup();
});

const APERTUS = {
  model: 'swiss-ai/Apertus-8B-Instruct-2509',
  framework: 'sglang',
  system: 'local',
  time: '00:05:00',
};

function submittedScripts(): string[] {
  return memory.calls
    .filter((c) => c.method === 'submit')
    .map((c) => (c.args[0] as { script: string }).script);
}

describe('launch', () => {
  it('writes and submits master.sh with its directives, records the job and returns at once', async () => {
    const before = submittedScripts().length;
    const launched = expectToolSuccess(
      await client.callTool({ name: 'launch', arguments: { ...APERTUS, replicas: 2 } }),
    );
    const [jobId] = launched.job_ids as string[];
    const job = memory.job(jobId!);
    expect(job.comment).toMatch(/^sml-mcp:/);
    expect(job.partition).toBe('normal');
    expect(job.account).toBe('sml-test');
    expect(submittedScripts()).toHaveLength(before + 1);
    expect(memory.fileText(job.request!.scriptPath)).toBe(job.request!.script);
    expect(job.request!.script).toContain('#SBATCH --nodes=2');
    expect(launched.served_model_name).toBe('root/swiss-ai/Apertus-8B-Instruct-2509');
    const status = expectToolSuccess(
      await client.callTool({ name: 'status', arguments: { job_ids: [jobId] } }),
    );
    expect((status.jobs as { is_recorded_locally: boolean }[])[0]!.is_recorded_locally).toBe(true);
    expectToolSuccess(await client.callTool({ name: 'cancel', arguments: { job_id: jobId, confirm: true } }));
    expect(memory.job(jobId!).state).toBe('CANCELLED');
  });

  it('dry_run renders without contacting the cluster', async () => {
    const callsBefore = memory.calls.length;
    const result = expectToolSuccess(
      await client.callTool({ name: 'launch', arguments: { ...APERTUS, dry_run: true } }),
    );
    expect(result.job_ids).toEqual([]);
    expect(memory.calls.slice(callsBefore)).toEqual([]);
  });

  it('replays a launch with the same idempotency key instead of submitting twice', async () => {
    const args = { ...APERTUS, idempotency_key: randomUUID() };
    const first = expectToolSuccess(await client.callTool({ name: 'launch', arguments: args }));
    const submits = submittedScripts().length;
    const second = expectToolSuccess(await client.callTool({ name: 'launch', arguments: args }));
    expect(second.job_ids).toEqual(first.job_ids);
    expect(second.replayed).toBe(true);
    expect(submittedScripts()).toHaveLength(submits);
    const jobId = (first.job_ids as string[])[0]!;
    expectToolSuccess(await client.callTool({ name: 'cancel', arguments: { job_id: jobId, confirm: true } }));
  });

  it('frees the idempotency key of a launch that queued nothing, so the retry launches', async () => {
    const args = { ...APERTUS, idempotency_key: randomUUID() };
    const refused = await client.callTool({
      name: 'launch',
      arguments: { ...args, partition: 'nosuchpartition' },
    });
    expectToolError(refused, 'SUBMIT_FAILED');
    expect(textOf(refused as CallToolResult)).toContain('nosuchpartition');
    const retried = expectToolSuccess(await client.callTool({ name: 'launch', arguments: args }));
    expect(retried.replayed).toBe(false);
    expect(retried.job_ids).toHaveLength(1);
    const jobId = (retried.job_ids as string[])[0]!;
    expectToolSuccess(await client.callTool({ name: 'cancel', arguments: { job_id: jobId, confirm: true } }));
  });

  it('keeps the key of an ambiguous submit: a retry looks for the job by tag instead of launching twice', async () => {
    const args = { ...APERTUS, idempotency_key: randomUUID() };
    memory.failNext('submit', new SmlError('SUBMIT_FAILED', 'sbatch timed out.', { isAmbiguous: true }), 1);
    const failed = await client.callTool({ name: 'launch', arguments: args });
    expectToolError(failed, 'SUBMIT_FAILED');
    expect(textOf(failed as CallToolResult)).toMatch(/same idempotency_key/);
    const submits = submittedScripts().length;
    // Not under its tag yet, and it could still land: the retry says so and submits nothing.
    const retried = await client.callTool({ name: 'launch', arguments: args });
    expectToolError(retried, 'SUBMIT_FAILED');
    expect(textOf(retried as CallToolResult)).toMatch(/has not confirmed it yet/);
    expect(submittedScripts()).toHaveLength(submits);
  });

  it('finds the job by its tag when the answer of the submit is lost', async () => {
    memory.loseSubmitAnswers(1);
    const launched = expectToolSuccess(await client.callTool({ name: 'launch', arguments: APERTUS }));
    const [jobId] = launched.job_ids as string[];
    expect(memory.job(jobId!).comment).toMatch(/^sml-mcp:/);
    expectToolSuccess(await client.callTool({ name: 'cancel', arguments: { job_id: jobId, confirm: true } }));
  });

  it('uploads a shipped environment file next to the jobs and applies its [env] table', async () => {
    const launched = expectToolSuccess(
      await client.callTool({ name: 'launch', arguments: { ...APERTUS, environment: 'sglang.toml' } }),
    );
    const [jobId] = launched.job_ids as string[];
    const upload = memory.calls.find(
      (c) => c.method === 'writeFile' && String(c.args[0]).endsWith(`${launched.launch_id}-sglang.toml`),
    );
    expect(upload, 'the environment file was not uploaded').toBeDefined();
    const path = String(upload!.args[0]);
    expect(path.startsWith('/root/.sml/env/')).toBe(true);
    expect(memory.fileText(path)).toBe(
      readFileSync(join(PACKAGE_ROOT, 'assets', 'envs', 'sglang.toml'), 'utf8'),
    );
    // The local system runs without a container runtime: the file's [env] table is exported by the script.
    expect(memory.job(jobId!).request!.script).toContain('export NCCL_CROSS_NIC=1');
    expectToolSuccess(await client.callTool({ name: 'cancel', arguments: { job_id: jobId, confirm: true } }));
  });

  it('reports a chain that broke after its first job, keeping the queued job recorded and the key held', async () => {
    const key = randomUUID();
    const args = { ...APERTUS, time: '30:00:00', consecutive: true, idempotency_key: key };
    memory.failNext(
      'submit',
      new SmlError('SUBMIT_FAILED', 'sbatch: error: QOSMaxSubmitJobPerUserLimit'),
      1,
      1,
    );
    const failed = await client.callTool({ name: 'launch', arguments: args });
    expectToolError(failed, 'SUBMIT_FAILED');
    const [firstId] = memory.jobIds().slice(-1);
    expect(textOf(failed as CallToolResult)).toMatch(
      new RegExp(`Job 2 of \\d+ of the chain could not be submitted.*${firstId}`),
    );
    const status = expectToolSuccess(
      await client.callTool({ name: 'status', arguments: { job_ids: [firstId] } }),
    );
    expect((status.jobs as { is_recorded_locally: boolean }[])[0]!.is_recorded_locally).toBe(true);
    // Something was queued: the key stays taken, a retry replays instead of launching a second chain.
    const submits = memory.calls.filter((c) => c.method === 'submit').length;
    const retried = expectToolSuccess(await client.callTool({ name: 'launch', arguments: args }));
    expect(retried).toMatchObject({ replayed: true, job_ids: [firstId] });
    expect(memory.calls.filter((c) => c.method === 'submit').length).toBe(submits);
    expectToolSuccess(
      await client.callTool({ name: 'cancel', arguments: { job_id: firstId, confirm: true } }),
    );
  });
});
