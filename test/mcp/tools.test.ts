import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTools } from '../../tools/all.js';
import { annotationsFor } from '../../tools/define-tool.js';
import { TOOL_MODULES } from '../../tools/index.js';
import {
  connect,
  createHarness,
  expectToolError,
  expectToolSuccess,
  type Harness,
  submitRecordedJob,
  textOf,
} from './harness.js';

let harness: Harness;
let client: Client;
let jobId: string;

beforeAll(async () => {
  harness = createHarness();
  client = await connect(harness.deps);
  jobId = await submitRecordedJob(harness, { lines: 30 });
});

afterAll(async () => {
  await harness.scheduler.cancel(jobId).catch(() => undefined);
  await client.close();
  harness.cleanup();
});

/** Valid arguments for every tool; a tool without an entry fails the contract test. */
function sampleArguments(): Record<string, Record<string, unknown>> {
  return {
    launch: {
      model_path: '/opt/sml-local/models/HuggingFaceTB/SmolLM3-3B',
      framework: 'sglang',
      served_model_name: 'test/smol',
      dry_run: true,
    },
    size_model: { model: 'swiss-ai/Apertus-8B-Instruct-2509', system: 'local' },
    status: { job_ids: [jobId] },
    logs: { job_id: jobId, tail_lines: 5 },
    list_models: { search: 'apertus' },
    list_systems: {},
    cancel: { job_id: jobId, confirm: true },
    loadtest: { job_id: jobId, concurrency: [1, 2], duration_s: 5 },
  };
}

const BAD_ARGUMENTS: Record<string, Record<string, unknown>> = {
  launch: { replicas: 0 },
  status: { job_ids: 'not-a-list' },
  logs: { job_id: 'abc' },
  list_models: { framework: 'tgi' },
  list_systems: { include_live: 'yes' },
  cancel: { job_id: 42 },
  size_model: { model: 7 },
  loadtest: { scenario: 'soak' },
};

describe('tool registry', () => {
  it('names each lazily loaded tool module as its definition names the tool', () => {
    expect(TOOL_MODULES.map((module) => module.name)).toEqual(allTools.map((tool) => tool.name));
  });

  it('lists every tool with object schemas, described inputs and annotations derived from its kind', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(allTools.map((t) => t.name));
    for (const tool of tools) {
      const definition = allTools.find((t) => t.name === tool.name)!;
      expect(tool.name).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
      expect(tool.description!.length).toBeGreaterThan(80);
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.annotations).toEqual(annotationsFor(definition));
      for (const [field, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        expect(
          (schema as { description?: string }).description,
          `${tool.name}.${field} has no description`,
        ).toBeTruthy();
      }
    }
  });

  it('derives the hints from the kind', () => {
    expect(annotationsFor({ kind: 'read', touchesCluster: false })).toEqual({
      readOnlyHint: true,
      openWorldHint: false,
    });
    expect(annotationsFor({ kind: 'create', touchesCluster: true })).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: true,
    });
    expect(annotationsFor({ kind: 'destructive', touchesCluster: true })).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
    });
  });

  it('answers an unknown tool with a JSON-RPC invalid-params error', async () => {
    await expect(client.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toMatchObject({
      code: -32602,
    });
  });
});

describe('contract: every result matches its tool output schema', () => {
  // Cancel goes last: it stops the job the other tools read.
  const ordered = [...allTools].sort((a, b) => Number(a.name === 'cancel') - Number(b.name === 'cancel'));
  for (const tool of ordered) {
    it(`${tool.name} returns structured content its schema accepts`, async () => {
      const args = sampleArguments()[tool.name];
      expect(args, `add sample arguments for ${tool.name}`).toBeDefined();
      const result = await client.callTool({ name: tool.name, arguments: args });
      const structured = expectToolSuccess(result);
      const parsed = tool.output.safeParse(structured);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      // Exactly the declared keys: the advertised schema forbids additional properties.
      expect(Object.keys(structured).sort()).toEqual(Object.keys(tool.output.shape).sort());
      expect(textOf(result).length).toBeGreaterThan(0);
    });
  }
});

describe('bad arguments', () => {
  for (const tool of allTools) {
    it(`${tool.name} answers bad arguments with [INVALID_ARGUMENT] naming the field`, async () => {
      const args = BAD_ARGUMENTS[tool.name];
      expect(args, `add bad arguments for ${tool.name}`).toBeDefined();
      const result = await client.callTool({ name: tool.name, arguments: args });
      expectToolError(result, 'INVALID_ARGUMENT');
      expect(textOf(result)).toContain(Object.keys(args!)[0]!);
    });
  }
});

describe('launch', () => {
  it('with layout "auto" sizes the model and renders its layout and engine arguments', async () => {
    const size = expectToolSuccess(
      await client.callTool({ name: 'size_model', arguments: { model: 'Qwen/Qwen3-32B', system: 'local' } }),
    );
    const result = await client.callTool({
      name: 'launch',
      arguments: { model: 'Qwen/Qwen3-32B', system: 'local', layout: 'auto', dry_run: true },
    });
    const launched = expectToolSuccess(result);
    expect((launched.warnings as string[])[0]).toMatch(/^layout "auto" \(size_model\)/);
    const review = launched.review as { ranks: { role: string; command: string }[] };
    const head = review.ranks.find((rank) => rank.role === 'head')!.command;
    const tp = String((size.layout as { tp: number }).tp);
    expect(head).toMatch(new RegExp(`--(tp-size|tensor-parallel-size)'? '?${tp}\\b`));
    expect(launched.job_ids).toEqual([]);
  });

  it('refuses layout "auto" together with an explicit topology', async () => {
    const result = await client.callTool({
      name: 'launch',
      arguments: {
        model: 'Qwen/Qwen3-32B',
        system: 'local',
        layout: 'auto',
        nodes_per_replica: 2,
        dry_run: true,
      },
    });
    expectToolError(result, 'INVALID_ARGUMENT');
  });

  it('links the resources of a launch', async () => {
    const result = await client.callTool({
      name: 'launch',
      arguments: {
        model: 'swiss-ai/Apertus-8B-Instruct-2509',
        framework: 'vllm',
        system: 'local',
        dry_run: true,
      },
    });
    const structured = expectToolSuccess(result);
    const links = (result.content as { type: string; uri?: string }[]).filter(
      (c) => c.type === 'resource_link',
    );
    expect(links.map((l) => l.uri)).toEqual(structured.resource_uris);
  });
});
