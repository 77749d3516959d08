import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ERROR_TEXT } from '../../src/errors.js';
import { connect, createHarness, expectToolError, type Harness, textOf } from './harness.js';

/**
 * Hostile tool input through the SDK's real Client: huge values, NUL bytes, prototype keys and
 * server-local paths. Nothing here submits a job; the cluster is not needed.
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

function resultSize(result: unknown): number {
  return JSON.stringify(result).length;
}

describe('hostile tool input', () => {
  it('refuses a 1 MB served_model_name with a short error instead of rendering it into every script', async () => {
    const huge = `vendor/${'x'.repeat(1024 * 1024)}`;
    const result = await client.callTool({
      name: 'launch',
      arguments: { model_path: '/models/m', framework: 'sglang', served_model_name: huge, dry_run: true },
    });
    expectToolError(result, 'INVALID_ARGUMENT');
    expect(textOf(result)).toMatch(/served_model_name is 1048583 characters long/);
    expect(resultSize(result)).toBeLessThan(1000);
  });

  it('refuses a long served_model_name without echoing it whole', async () => {
    const long = `vendor/${'y'.repeat(5000)}`;
    const result = await client.callTool({
      name: 'launch',
      arguments: { model_path: '/models/m', framework: 'sglang', served_model_name: long, dry_run: true },
    });
    expectToolError(result, 'INVALID_ARGUMENT');
    expect(textOf(result)).toMatch(/5007 characters long; at most 256/);
    expect(resultSize(result)).toBeLessThan(1000);
  });

  it('cuts any error text to a bounded size, keeping its head and its next step', async () => {
    // A bad value under the per-string limit, echoed by the error that names it.
    const result = (await client.callTool({
      name: 'size_model',
      arguments: { model: `no such model ${'z'.repeat(60_000)}` },
    })) as CallToolResult;
    expectToolError(result, 'INVALID_ARGUMENT');
    const text = textOf(result);
    expect(text.length).toBeLessThanOrEqual(MAX_ERROR_TEXT);
    expect(text).toMatch(/characters omitted/);
    expect(text).toMatch(/Hugging Face id/);
  });

  it('refuses a NUL byte in any string, naming the field', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['size_model', { model: 'Qwen/Qwen3-8B\u0000/etc/passwd' }, /model contains a NUL byte/],
      [
        'launch',
        {
          model_path: '/models/m',
          framework: 'sglang',
          served_model_name: 'a/b',
          framework_args: ['--ok', 'bad\u0000tail'],
          dry_run: true,
        },
        /framework_args\.1 contains a NUL byte/,
      ],
      ['list_models', { search: '\u0000' }, /search contains a NUL byte/],
    ];
    for (const [name, args, message] of cases) {
      const result = await client.callTool({ name, arguments: args });
      expectToolError(result, 'INVALID_ARGUMENT');
      expect(textOf(result)).toMatch(message);
    }
  });
});
