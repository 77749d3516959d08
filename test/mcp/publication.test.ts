import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage, Tool } from '@modelcontextprotocol/sdk/types.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  geminiViolations,
  openAiStrictViolations,
  type Schema,
  toOpenAiStrict,
} from '../../bench/provider-dialects.js';
import { createMcpServer } from '../../server/server.js';
import { allTools } from '../../tools/all.js';
import { listToolsResult, TOOLS_LIST_BUDGET_BYTES } from '../../tools/publish.js';
import {
  connect,
  createHarness,
  expectToolError,
  expectToolSuccess,
  type Harness,
  submitRecordedJob,
  textOf,
} from './harness.js';

/**
 * How the tools are published: the size of tools/list on the wire, and input schemas every major
 * model provider accepts (the providers' documented limits for function/tool parameters are in
 * bench/provider-dialects.ts, which bench/agent-surface.ts reports from as well).
 */

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

/** The bytes the server writes for a tools/list request: the JSON-RPC response as sent. */
async function toolsListOnTheWire(): Promise<string> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const mcp = createMcpServer(harness.deps);
  await mcp.connect(serverSide);
  const answer = new Promise<string>((resolve) => {
    clientSide.onmessage = (message: JSONRPCMessage) => {
      if ('id' in message && message.id === 2) resolve(JSON.stringify(message));
    };
  });
  await clientSide.start();
  await clientSide.send({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'wire', version: '0' } },
  });
  await clientSide.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  await clientSide.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  const text = await answer;
  await mcp.close();
  return text;
}

describe('tools/list', () => {
  it(`stays within ${TOOLS_LIST_BUDGET_BYTES} bytes on the wire`, async () => {
    const wire = await toolsListOnTheWire();
    expect(JSON.parse(wire).result.tools).toHaveLength(allTools.length);
    expect(Buffer.byteLength(wire)).toBeLessThanOrEqual(TOOLS_LIST_BUDGET_BYTES);
  });

  it('is computed once and served as is', () => {
    expect(listToolsResult(allTools)).toBe(listToolsResult(allTools));
  });

  it('publishes output schemas without ±2^53 integer bounds and with each repeated shape once', async () => {
    const { tools } = await client.listTools();
    const text = JSON.stringify(tools);
    expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
    for (const tool of tools) {
      const shapes = objectShapes(tool.outputSchema as Schema);
      const repeated = shapes.filter((shape, i) => shape.length > 120 && shapes.indexOf(shape) !== i);
      expect(repeated, `${tool.name} repeats a shape`).toEqual([]);
    }
  });

  it('validates real results with its published output schemas (a client does this)', async () => {
    const jobId = await submitRecordedJob(harness, { lines: 3 });
    const { tools } = await client.listTools();
    const status = tools.find((tool) => tool.name === 'status')!;
    const result = expectToolSuccess(
      await client.callTool({ name: 'status', arguments: { job_ids: [jobId] } }),
    );
    const ajv = new Ajv2020({ strict: false });
    expect(ajv.validate(status.outputSchema!, result), JSON.stringify(ajv.errors)).toBe(true);
    await harness.scheduler.cancel(jobId);
  });
});

/** Every object subschema, serialized, to spot a shape stated twice. */
function objectShapes(node: unknown, out: string[] = []): string[] {
  if (!node || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    for (const item of node) objectShapes(item, out);
    return out;
  }
  const schema = node as Schema;
  if (schema.type === 'object' && schema.properties) {
    const { description: _, ...shape } = schema;
    out.push(JSON.stringify(shape));
  }
  for (const value of Object.values(schema)) objectShapes(value, out);
  return out;
}

describe('input schemas in the common dialect', () => {
  let tools: Tool[];
  beforeAll(async () => {
    tools = (await client.listTools()).tools;
  });

  it('Anthropic: a valid JSON Schema (2020-12) whose root is an object', () => {
    const ajv = new Ajv2020({ strict: false });
    for (const tool of tools) {
      expect(tool.inputSchema.type, tool.name).toBe('object');
      expect(ajv.validateSchema(tool.inputSchema), `${tool.name}: ${JSON.stringify(ajv.errors)}`).toBe(true);
    }
  });

  it('Gemini: no keyword, type or format outside its OpenAPI subset', () => {
    for (const tool of tools) expect(geminiViolations(tool.inputSchema as Schema), tool.name).toEqual([]);
  });

  it('OpenAI: every tool can run in strict mode', () => {
    for (const tool of tools) {
      expect(openAiStrictViolations(toOpenAiStrict(tool.inputSchema as Schema)), tool.name).toEqual([]);
    }
  });

  it('the checks catch what the providers reject', () => {
    const rejected: Schema = {
      type: 'object',
      additionalProperties: false,
      properties: {
        n: { type: 'integer', exclusiveMinimum: 0 },
        url: { type: 'string', format: 'uri' },
        name: { type: 'string', minLength: 1, default: 'x' },
        free: { type: 'object', additionalProperties: {} },
      },
    };
    expect(geminiViolations(rejected)).toEqual([
      '(root): additionalProperties',
      '(root).n: exclusiveMinimum',
      '(root).url: format uri',
      '(root).free: additionalProperties',
      '(root).free: object without properties',
    ]);
    expect(openAiStrictViolations(toOpenAiStrict(rejected))).toEqual([
      '(root).url: format uri',
      '(root).name: minLength',
      '(root).name: default',
      '(root).free: open object',
    ]);
  });
});

describe('arguments the published schema cannot express are still checked by the tool', () => {
  it('refuses an unknown argument, names the one meant, and does nothing', async () => {
    const jobId = await submitRecordedJob(harness, { lines: 3 });
    const result = await client.callTool({
      name: 'cancel',
      arguments: { job_id: jobId, wholeChain: false, confirm: true },
    });
    expectToolError(result, 'INVALID_ARGUMENT');
    expect(textOf(result)).toContain("unknown argument 'wholeChain' (did you mean 'whole_chain'?)");
    const [status] = (
      expectToolSuccess(await client.callTool({ name: 'status', arguments: { job_ids: [jobId] } })) as {
        jobs: { phase: string }[];
      }
    ).jobs;
    expect(status!.phase).not.toBe('ended');
    await harness.scheduler.cancel(jobId);
  });

  it('every tool refuses an unknown argument', async () => {
    for (const tool of allTools) {
      const result = await client.callTool({ name: tool.name, arguments: { no_such_argument: 1 } });
      expectToolError(result, 'INVALID_ARGUMENT');
      expect(textOf(result), tool.name).toContain("unknown argument 'no_such_argument'");
    }
  });

  it('takes null for a left-out argument, as strict-mode clients send it', async () => {
    const result = await client.callTool({
      name: 'list_models',
      arguments: { search: 'apertus', framework: null, max_nodes_per_replica: null },
    });
    expect((expectToolSuccess(result).models as unknown[]).length).toBeGreaterThan(0);
  });

  it('checks what the dialect dropped: lengths, formats and exclusive bounds', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['size_model', { model: '' }, 'model'],
      ['size_model', { model: 'x', parameter_count: 0 }, 'parameter_count'],
      ['launch', { model: 'x', telemetry_endpoint: 'not a url', dry_run: true }, 'telemetry_endpoint'],
      ['launch', { model_path: 'relative/path', dry_run: true }, 'model_path'],
    ];
    for (const [name, args, field] of cases) {
      const result = await client.callTool({ name, arguments: args });
      expectToolError(result, 'INVALID_ARGUMENT');
      expect(textOf(result), `${name} ${JSON.stringify(args)}`).toContain(field);
    }
  });
});
