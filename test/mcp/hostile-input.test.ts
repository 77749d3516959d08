import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localFilesUnder } from '../../src/config/local-files.js';
import { MAX_ERROR_TEXT } from '../../src/errors.js';
import {
  connect,
  createHarness,
  expectToolError,
  expectToolSuccess,
  type Harness,
  textOf,
} from './harness.js';

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

  it('refuses a value nested absurdly deep before walking it', async () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const result = await client.callTool({ name: 'list_models', arguments: { search: deep } });
    expectToolError(result, 'INVALID_ARGUMENT');
    expect(textOf(result)).toMatch(/search(\.0)+ nests more than 32 levels deep/);
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

/** A small but real Hugging Face config (Llama shape). */
const LLAMA_CONFIG = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  vocab_size: 128256,
  max_position_embeddings: 8192,
  torch_dtype: 'bfloat16',
};
const MARKER = 'marker-value-7f3a9c';

function dryRun(environment: string) {
  return {
    model_path: '/models/m',
    framework: 'sglang',
    served_model_name: 'a/b',
    system: 'local',
    environment,
    dry_run: true,
  };
}

describe('server-local files named by tool inputs', () => {
  it('the local user may name files, but only ones that look like what they claim, and errors never quote them', async () => {
    const environ = await client.callTool({
      name: 'size_model',
      arguments: { model: '/proc/self/environ', gpu: 'H100' },
    });
    expectToolError(environ, 'INVALID_ARGUMENT');
    expect(textOf(environ)).toMatch(/neither a directory nor a \.json file/);
    expect(textOf(environ)).not.toMatch(/PATH=|HOME=/);

    const notJson = join(harness.dir, 'notes.json');
    writeFileSync(notJson, `password=${MARKER}\n`);
    const parsed = await client.callTool({ name: 'size_model', arguments: { model: notJson, gpu: 'H100' } });
    expectToolError(parsed, 'INVALID_ARGUMENT');
    expect(textOf(parsed)).toMatch(/is not valid JSON/);
    expect(textOf(parsed)).not.toContain(MARKER);

    const notToml = join(harness.dir, 'secrets.env');
    writeFileSync(notToml, `TOKEN="${MARKER}"\n`);
    const refused = await client.callTool({ name: 'launch', arguments: dryRun(notToml) });
    expectToolError(refused, 'INVALID_ARGUMENT');
    expect(textOf(refused)).toMatch(/is not a \.toml file/);

    const notEdf = join(harness.dir, 'credentials.toml');
    writeFileSync(notEdf, `[default]\ntoken = "${MARKER}"\n`);
    const foreign = await client.callTool({ name: 'launch', arguments: dryRun(notEdf) });
    expectToolError(foreign, 'INVALID_ARGUMENT');
    expect(textOf(foreign)).toMatch(/none of the keys of an environment file/);
    expect(textOf(foreign)).not.toContain(MARKER);

    const broken = join(harness.dir, 'broken.toml');
    writeFileSync(broken, `image = "x"\nsecret = ${MARKER}\n`);
    const invalid = await client.callTool({ name: 'launch', arguments: dryRun(broken) });
    expectToolError(invalid, 'INVALID_ARGUMENT');
    expect(textOf(invalid)).toMatch(/not valid TOML \(line 2/);
    expect(textOf(invalid)).not.toContain(MARKER);

    const edf = join(harness.dir, 'mine.toml');
    writeFileSync(edf, `[env]\nMY_VAR = "${MARKER}"\n`);
    const rendered = expectToolSuccess(await client.callTool({ name: 'launch', arguments: dryRun(edf) }));
    expect(await scriptsOf(client, rendered)).toContain(MARKER);
  });

  it('a config.json with absurd numbers is refused as such, not reported as a bug', async () => {
    const dir = join(harness.dir, 'absurd');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...LLAMA_CONFIG, hidden_size: 1e300 }));
    const result = await client.callTool({ name: 'size_model', arguments: { model: dir, gpu: 'H100' } });
    expectToolError(result, 'INVALID_ARGUMENT');
    expect(textOf(result)).toMatch(/hidden_size/);
    const huge = await client.callTool({
      name: 'size_model',
      arguments: { model: dir, gpu: 'H100', parameter_count: 1e308 },
    });
    expectToolError(huge, 'INVALID_ARGUMENT');
    expect(textOf(huge)).toMatch(/parameter_count/);
  });

  it('remote (HTTP) clients may name no file of the server, unless under a directory the operator allowed', async () => {
    const allowed = join(harness.dir, 'shared');
    const outside = join(harness.dir, 'private');
    for (const dir of [join(allowed, 'model'), join(outside, 'model')]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), JSON.stringify(LLAMA_CONFIG));
    }
    writeFileSync(join(allowed, 'env.toml'), `[env]\nMY_VAR = "${MARKER}"\n`);
    writeFileSync(join(outside, 'env.toml'), `[env]\nMY_VAR = "${MARKER}"\n`);
    symlinkSync(join(outside, 'model'), join(allowed, 'escape'));
    const remote = createHarness({ localFiles: localFilesUnder([allowed]) });
    const remoteClient = await connect(remote.deps);
    try {
      for (const model of [
        join(outside, 'model'),
        join(allowed, 'escape'),
        `${allowed}/../private/model`,
        '/proc/self/environ',
      ]) {
        const result = await remoteClient.callTool({ name: 'size_model', arguments: { model, gpu: 'H100' } });
        expectToolError(result, 'PERMISSION_DENIED');
        expect(textOf(result)).toMatch(/http\.localPathRoots/);
      }
      expectToolSuccess(
        await remoteClient.callTool({
          name: 'size_model',
          arguments: { model: join(allowed, 'model'), gpu: 'H100' },
        }),
      );
      // Outside: the path is taken for a path on the cluster (read there), and nothing of this machine is read.
      remote.memory!.putFile(join(outside, 'env.toml'), '[env]\nMY_VAR = "from-the-cluster"\n');
      const elsewhere = expectToolSuccess(
        await remoteClient.callTool({ name: 'launch', arguments: dryRun(join(outside, 'env.toml')) }),
      );
      const elsewhereScripts = await scriptsOf(remoteClient, elsewhere);
      expect(elsewhereScripts).not.toContain(MARKER);
      expect(elsewhereScripts).toContain('from-the-cluster');
      const inside = expectToolSuccess(
        await remoteClient.callTool({ name: 'launch', arguments: dryRun(join(allowed, 'env.toml')) }),
      );
      expect(await scriptsOf(remoteClient, inside)).toContain(MARKER);
    } finally {
      await remoteClient.close();
      remote.cleanup();
    }
  });
});

/** Every script a dry run rendered, read through the resources its review links. */
async function scriptsOf(reader: Client, dryRun: Record<string, unknown>): Promise<string> {
  const { scripts } = dryRun.review as { scripts: { uri: string }[] };
  expect(scripts.length).toBeGreaterThan(0);
  const texts = await Promise.all(
    scripts.map(async ({ uri }) =>
      (await reader.readResource({ uri })).contents.map((c) => ('text' in c ? c.text : '')),
    ),
  );
  return texts.flat().join('\n');
}
