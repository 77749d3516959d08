import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allPrompts } from '../../prompts/index.js';
import { allResources } from '../../resources/index.js';
import { LOG_TEMPLATE, logUri, metricsUri, scriptUri } from '../../resources/uris.js';
import {
  connect,
  createHarness,
  eventually,
  type Harness,
  submitRecordedJob,
  submitTestJob,
  waitUntilEnded,
} from './harness.js';

let harness: Harness;
let client: Client;
let endedJob: string;
const submitted: string[] = [];

beforeAll(async () => {
  harness = createHarness();
  client = await connect(harness.deps);
  endedJob = await submitRecordedJob(harness, {
    lines: 3,
    intervalS: 0,
    banner: 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB',
    exitCode: 1,
  });
  submitted.push(endedJob);
  await waitUntilEnded(client, endedJob);
});

afterAll(async () => {
  for (const id of submitted) await harness.scheduler.cancel(id).catch(() => undefined);
  await client.close();
  harness.cleanup();
});

function textContent(result: unknown): string {
  return String((result as { contents: { text?: unknown }[] }).contents[0]?.text ?? '');
}

describe('resources', () => {
  it('lists the fixed resources, every template, and the resources of known jobs', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toEqual(expect.arrayContaining(['sml://jobs', 'sml://catalog', 'sml://systems']));
    expect(uris).toEqual(
      expect.arrayContaining([
        `sml://jobs/${endedJob}`,
        logUri(endedJob, 'log.out'),
        scriptUri(endedJob, 'master.sh'),
        metricsUri(endedJob),
      ]),
    );
    const { resourceTemplates } = await client.listResourceTemplates();
    const templates = resourceTemplates.map((t) => t.uriTemplate);
    for (const resource of allResources.filter((r) => r.uri.includes('{')))
      expect(templates).toContain(resource.uri);
  });

  it('reads every resource', async () => {
    const jobs = JSON.parse(textContent(await client.readResource({ uri: 'sml://jobs' })));
    expect(jobs.jobs.map((j: { job_id: string }) => j.job_id)).toContain(endedJob);

    const job = JSON.parse(textContent(await client.readResource({ uri: `sml://jobs/${endedJob}` })));
    expect(job).toMatchObject({ job_id: endedJob, phase: 'ended' });
    expect(job.failure_hint?.signature).toBe('gpu_oom');

    const log = await client.readResource({ uri: logUri(endedJob, 'log.out') });
    expect(textContent(log)).toContain('line 3');
    expect(log.contents[0]?.mimeType).toBe('text/plain');

    const script = await client.readResource({ uri: scriptUri(endedJob, 'master.sh') });
    expect(textContent(script)).toMatch(/^#!\/bin\/bash/);
    expect(script.contents[0]?.mimeType).toBe('text/x-shellscript');

    const metrics = JSON.parse(textContent(await client.readResource({ uri: metricsUri(endedJob) })));
    expect(metrics).toMatchObject({ job_id: endedJob, replicas: [] });

    const catalog = JSON.parse(textContent(await client.readResource({ uri: 'sml://catalog' })));
    expect(catalog.models.length).toBeGreaterThan(20);

    const systems = JSON.parse(textContent(await client.readResource({ uri: 'sml://systems' })));
    expect(systems.systems.map((s: { name: string }) => s.name)).toEqual(
      expect.arrayContaining(['clariden', 'bristen', 'beverin', 'local']),
    );
    expect(systems.defaults).toEqual({ system: 'local' });
  });

  it('answers unknown job ids and scripts with invalid-params errors', async () => {
    await expect(client.readResource({ uri: 'sml://jobs/999999999' })).rejects.toMatchObject({
      code: -32602,
    });
    await expect(client.readResource({ uri: logUri('999999999', 'log.out') })).rejects.toMatchObject({
      code: -32602,
    });
    await expect(client.readResource({ uri: metricsUri('999999999') })).rejects.toMatchObject({
      code: -32602,
    });
    await expect(client.readResource({ uri: scriptUri(endedJob, 'nope.sh') })).rejects.toMatchObject({
      code: -32602,
    });
    await expect(client.readResource({ uri: scriptUri('999999999', 'master.sh') })).rejects.toMatchObject({
      code: -32602,
    });
    for (const key of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      await expect(client.readResource({ uri: scriptUri(endedJob, key) })).rejects.toMatchObject({
        code: -32602,
        message: expect.stringContaining(`has no script named ${key}`),
      });
    }
  });

  it('completes job ids and, given the job, its log files', async () => {
    const ref = { type: 'ref/resource' as const, uri: LOG_TEMPLATE };
    const ids = await client.complete({ ref, argument: { name: 'id', value: endedJob.slice(0, 1) } });
    expect(ids.completion.values).toContain(endedJob);
    const files = await client.complete({
      ref,
      argument: { name: 'file', value: 'replica_' },
      context: { arguments: { id: endedJob } },
    });
    expect(files.completion.values).toEqual(expect.arrayContaining(['replica_0.out', 'replica_0.err']));
    expect(files.completion.values.every((file) => file.startsWith('replica_'))).toBe(true);
  });

  it('notifies a subscriber when a log grows, and stops after unsubscribe', async () => {
    const jobId = await submitTestJob(harness, { lines: 60, intervalS: 1 });
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
      updates.push(notification.params.uri);
    });
    const uri = logUri(jobId, 'log.out');
    await client.subscribeResource({ uri });
    await eventually(async () => (updates.filter((u) => u === uri).length >= 2 ? true : undefined), 240_000);
    await client.unsubscribeResource({ uri });
    const countAfterUnsubscribe = updates.length;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(updates.length).toBe(countAfterUnsubscribe);
  });

  it('notifies a subscriber of a job when its state changes, with a log line saying how', async () => {
    const jobId = await submitTestJob(harness, { lines: 2, intervalS: 1 });
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
    });
    const messages: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      messages.push(String(n.params.data));
    });
    await client.subscribeResource({ uri: `sml://jobs/${jobId}` });
    await eventually(async () => (updates.includes(`sml://jobs/${jobId}`) ? true : undefined), 240_000);
    await eventually(
      async () => (messages.some((m) => m.startsWith(`job ${jobId}: `)) ? true : undefined),
      10_000,
    );
    expect(messages.find((m) => m.startsWith(`job ${jobId}: `))).toMatch(/ → /);
  });

  it('refuses subscriptions to resources that do not change', async () => {
    await expect(client.subscribeResource({ uri: 'sml://catalog' })).rejects.toMatchObject({ code: -32602 });
  });
});

describe('prompts', () => {
  it('lists every prompt with its arguments', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(allPrompts.map((p) => p.name));
    for (const prompt of prompts) {
      const definition = allPrompts.find((p) => p.name === prompt.name)!;
      expect(prompt.arguments?.map((a) => [a.name, a.required ?? false])).toEqual(
        definition.arguments.map((a) => [a.name, a.isRequired]),
      );
      // Optional arguments keep their descriptions too.
      expect(prompt.arguments?.map((a) => a.description)).toEqual(
        definition.arguments.map((a) => a.description),
      );
    }
  });

  it('completes the optional system argument with the known systems', async () => {
    for (const name of ['deploy_model', 'right_size']) {
      const completion = await client.complete({
        ref: { type: 'ref/prompt', name },
        argument: { name: 'system', value: 'cla' },
      });
      expect(completion.completion.values, name).toEqual(['clariden']);
    }
  });

  it('deploy_model walks through size, launch, wait and hand-over, and completes model ids', async () => {
    const prompt = await client.getPrompt({
      name: 'deploy_model',
      arguments: { model: 'swiss-ai/Apertus-8B-Instruct-2509' },
    });
    const text = String((prompt.messages[0]!.content as { text: string }).text);
    for (const step of ['size_model', 'launch', 'wait_until', 'served_model_name', 'idempotency_key'])
      expect(text).toContain(step);
    expect(text).toContain('It is in the catalog');
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'deploy_model' },
      argument: { name: 'model', value: 'apertus-8b' },
    });
    expect(completion.completion.values).toContain('swiss-ai/Apertus-8B-Instruct-2509');
  });

  it('diagnose_job embeds the status and the error log tails and names the matched signature', async () => {
    const prompt = await client.getPrompt({ name: 'diagnose_job', arguments: { job_id: endedJob } });
    const resources = prompt.messages.filter((m) => m.content.type === 'resource');
    expect(resources.map((m) => (m.content as { resource: { uri: string } }).resource.uri)).toEqual(
      expect.arrayContaining([`sml://jobs/${endedJob}`, logUri(endedJob, 'log.out')]),
    );
    const last = prompt.messages.at(-1)!.content as { text: string };
    expect(last.text).toContain('gpu_oom');
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'diagnose_job' },
      argument: { name: 'job_id', value: '' },
    });
    expect(completion.completion.values).toContain(endedJob);
    await expect(
      client.getPrompt({ name: 'diagnose_job', arguments: { job_id: '999999999' } }),
    ).rejects.toMatchObject({
      code: -32602,
    });
  });

  it('right_size points at size_model, list_systems and the metrics of a running job', async () => {
    const prompt = await client.getPrompt({
      name: 'right_size',
      arguments: { model: 'Qwen/Qwen3-32B', load: '50 users', job_id: endedJob },
    });
    const text = String((prompt.messages[0]!.content as { text: string }).text);
    expect(text).toContain('size_model');
    expect(text).toContain('list_systems');
    expect(text).toContain(metricsUri(endedJob));
    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'right_size' },
      argument: { name: 'model', value: 'qwen3-32' },
    });
    expect(completion.completion.values).toContain('Qwen/Qwen3-32B');
  });
});

describe('without a configured system', () => {
  let bare: Harness;
  let bareClient: Client;
  beforeAll(async () => {
    bare = createHarness({ isUnconfigured: true });
    bareClient = await connect(bare.deps);
  });
  afterAll(async () => {
    await bareClient.close();
    bare.cleanup();
  });

  it('prompts and resources answer NOT_CONFIGURED as an invalid-params error with the next step', async () => {
    const attempts = [
      () => bareClient.getPrompt({ name: 'diagnose_job', arguments: { job_id: '123456' } }),
      () => bareClient.readResource({ uri: 'sml://jobs/123456' }),
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(
        () => undefined,
        (failure: unknown) =>
          failure as { code: number; message: string; data?: { code?: string; hint?: string } },
      );
      expect(error?.code).toBe(-32602);
      expect(error?.message).toMatch(/\[NOT_CONFIGURED\] .*SML_SYSTEM/);
      expect(error?.data?.code).toBe('NOT_CONFIGURED');
      expect(error?.data?.hint).toMatch(/SML_SYSTEM/);
    }
  });
});
