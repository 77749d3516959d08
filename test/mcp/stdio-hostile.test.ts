import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { expectToolError, textOf } from './harness.js';

/**
 * Hostile input against the server that ships (dist/bin/sml-mcp.js serve over stdio), in its own
 * process: whatever one request does, the server must keep answering the others.
 */

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sml-mcp-stdio-hostile-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serverEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    SML_CONFIG_DIR: join(dir, 'config'),
    SML_LOG_LEVEL: 'info',
  };
}

describe('stdio server under hostile input', () => {
  it('a catastrophically backtracking ignore pattern in a model config neither freezes nor ends the server', async () => {
    const model = join(dir, 'hostile-model');
    mkdirSync(model, { recursive: true });
    writeFileSync(
      join(model, 'config.json'),
      JSON.stringify({
        architectures: ['LlamaForCausalLM'],
        model_type: 'llama',
        hidden_size: 4096,
        intermediate_size: 14336,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        num_key_value_heads: 8,
        vocab_size: 128256,
        max_position_embeddings: 8192,
        torch_dtype: 'bfloat16',
        quantization_config: {
          quant_method: 'compressed-tensors',
          ignore: ['lm_head', 're:(.|.)*X'],
          config_groups: { g: { weights: { num_bits: 8, type: 'float', strategy: 'channel' } } },
        },
      }),
    );
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'serve'],
      env: serverEnv(),
      stderr: 'ignore',
    });
    const client = new Client({ name: 'hostile', version: '0' });
    await client.connect(transport);
    try {
      const [sized, listed] = await Promise.all([
        client.callTool({ name: 'size_model', arguments: { model, gpu: 'H100' } }, undefined, {
          timeout: 20_000,
        }),
        client.listTools(undefined, { timeout: 20_000 }),
      ]);
      expect(listed.tools.length).toBeGreaterThan(0);
      expectToolError(sized, 'INVALID_ARGUMENT');
      expect(textOf(sized)).toMatch(/ignore pattern 're:\(\.\|\.\)\*X' did not finish matching/);
    } finally {
      await client.close();
    }
  });

  it('answers a line over the 10 MiB limit, or one that is not JSON-RPC, with an error and keeps serving', async () => {
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: serverEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const answers = new Map<unknown, Record<string, unknown>>();
    const unaddressed: Record<string, unknown>[] = [];
    const arrived = new Set<() => void>();
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (message.id === null) unaddressed.push(message);
      else answers.set(message.id, message);
      for (const wake of arrived) wake();
    });
    const answerTo = (id: unknown) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no answer to ${String(id)}; stderr: ${stderr.slice(-500)}`)),
          20_000,
        );
        const check = () => {
          const answer = answers.get(id);
          if (!answer) return;
          clearTimeout(timer);
          arrived.delete(check);
          resolve(answer);
        };
        arrived.add(check);
        check();
      });
    const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
    try {
      send({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '0' },
        },
      });
      await answerTo(1);
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      // The SDK client's key order: method, params, then jsonrpc and id last.
      send({
        method: 'tools/call',
        params: { name: 'list_models', arguments: { search: 'x'.repeat(11 * 1024 * 1024) } },
        jsonrpc: '2.0',
        id: 2,
      });
      const tooLarge = await answerTo(2);
      expect(tooLarge.error).toMatchObject({
        code: -32600,
        message: expect.stringMatching(/Request too large/),
      });
      send({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} });
      expect(((await answerTo(3)).result as { tools: unknown[] }).tools.length).toBeGreaterThan(0);
      expect(stderr).toMatch(/skipped a JSON-RPC line of \d+ bytes/);
      // Lines that are not JSON, or not JSON-RPC, are answered too (id null), and serving goes on.
      child.stdin.write('not json\n{"foo": 1}\n');
      send({ jsonrpc: '2.0', id: 4, method: 'ping' });
      await answerTo(4);
      expect(unaddressed.map((m) => (m.error as { code: number }).code)).toEqual([-32700, -32600]);
    } finally {
      child.stdin.end();
      await exited;
    }
  });
});
