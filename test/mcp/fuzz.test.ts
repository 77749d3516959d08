import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ERROR_TEXT } from '../../src/errors.js';
import { connect, createHarness, type Harness, submitRecordedJob, textOf } from './harness.js';

/**
 * Seeded fuzzing of every tool through the SDK's real Client (on the in-memory scheduler): valid
 * calls with one or two fields replaced by hostile values, or unexpected keys added. Whatever comes
 * in, the answer is a result or a coded error that is not a bug (never INTERNAL), bounded in size,
 * free of secrets, and the server keeps answering.
 */

const SECRET = 'fuzz-client-secret-4c0ffee9';
const CALLS = 1000;

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_STRINGS = [
  '',
  ' ',
  'a\u0000b',
  'x'.repeat(70 * 1024),
  'y'.repeat(5000),
  '../../../../etc/passwd',
  '/proc/self/environ',
  '/etc/shadow',
  '~/.ssh/id_rsa',
  '__proto__',
  'constructor',
  'toString',
  '$(touch /tmp/sml-fuzz-pwned)',
  '`id`',
  "'; rm -rf ~ #",
  'line1\nline2\r\n',
  're:(.|.)*X',
  '\u202egnp.exe',
  '模型/モデル/🚀',
  '%00%2e%2e%2f',
  '{"a":1}',
  'sml://jobs/1/sbatch/constructor',
  SECRET,
  encodeURIComponent(`${SECRET}/+`),
  '12345',
  '1_2',
  '-1',
  '--port=1',
];
const HOSTILE_VALUES: unknown[] = [
  ...HOSTILE_STRINGS,
  0,
  -1,
  1.5,
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  true,
  null,
  [],
  ['--x', 'a\u0000'],
  {},
  JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}'),
  Array.from({ length: 300 }, (_, i) => `${i}`),
];

let harness: Harness;
let client: Client;
let jobId: string;

beforeAll(async () => {
  harness = createHarness({ env: { SML_FIRECREST_CLIENT_SECRET: SECRET } });
  client = await connect(harness.deps);
  jobId = await submitRecordedJob(harness, { lines: 5 });
});

afterAll(async () => {
  await client.close();
  harness.cleanup();
});

function validArguments(): Record<string, Record<string, unknown>> {
  return {
    launch: {
      model: 'swiss-ai/Apertus-8B-Instruct-2509',
      framework: 'sglang',
      system: 'local',
      dry_run: true,
    },
    size_model: { model: 'swiss-ai/Apertus-8B-Instruct-2509', system: 'local' },
    status: { job_ids: [jobId] },
    logs: { job_id: jobId, tail_lines: 5 },
    list_models: { search: 'apertus' },
    list_systems: {},
    cancel: { job_id: jobId, confirm: false },
  };
}

describe('fuzzed tool calls', () => {
  it(`${CALLS} hostile calls: never a bug, never huge, never a secret, and the server keeps answering`, async () => {
    const random = generator(Number(process.env.SML_FUZZ_SEED ?? 0x5eed));
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const { tools } = await client.listTools();
    const failures: string[] = [];
    let successes = 0;
    for (let call = 0; call < CALLS; call++) {
      const tool = pick(tools);
      const args: Record<string, unknown> = { ...validArguments()[tool.name] };
      const fields = Object.keys(tool.inputSchema.properties ?? {});
      for (let change = 0; change < (random() < 0.7 ? 1 : 2); change++) {
        const field =
          random() < 0.85 ? pick(fields) : pick(['__proto__', 'constructor', 'wholeChain', 'x\u0000']);
        // An own key even when it is __proto__, as JSON.parse makes it on the server's side.
        Object.defineProperty(args, field, {
          value: pick(HOSTILE_VALUES),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      // Nothing fuzzed may submit or cancel for real.
      if (tool.name === 'launch') args.dry_run = true;
      if (tool.name === 'cancel') args.confirm = false;
      // As on the wire: the in-memory transport would otherwise hand the server this very object.
      const wire = JSON.parse(JSON.stringify(args)) as Record<string, unknown>;
      const result = (await client.callTool({ name: tool.name, arguments: wire })) as CallToolResult;
      const text = textOf(result);
      if (!result.isError) successes++;
      const size = JSON.stringify(result).length;
      const where = `call ${call} ${tool.name} ${JSON.stringify(args).slice(0, 200)}`;
      if (result.isError && !/^\[[A-Z_]+\] /.test(text))
        failures.push(`${where}: uncoded error ${text.slice(0, 200)}`);
      if (result.isError && text.startsWith('[INTERNAL]')) failures.push(`${where}: ${text.slice(0, 300)}`);
      if (result.isError && text.length > MAX_ERROR_TEXT)
        failures.push(`${where}: error of ${text.length} chars`);
      if (size > 2 * 1024 * 1024) failures.push(`${where}: answer of ${size} bytes`);
      if (JSON.stringify(result).includes(SECRET)) failures.push(`${where}: the secret leaked`);
    }
    expect(failures).toEqual([]);
    // Hostile values must also get past validation into the tools, not only be refused at the door.
    expect(successes).toBeGreaterThan(CALLS / 20);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await client.listTools()).tools.length).toBe(tools.length);
  });
});
