/**
 * `npm run demo`, the main job end to end: bring the local SLURM cluster up when it is not
 * running, start `sml-mcp serve` over stdio, and through an MCP client launch a model, wait until
 * it serves, send one chat completion to its endpoint, print the answer and cancel the job.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { request } from 'undici';
import type { JobStatusView, LaunchResultView } from '../src/jobs/types.js';
import { printErr, printOut } from './commands/print.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLUSTER_ENV = join(ROOT, 'test/cluster/env.sh');
const MODEL = 'swiss-ai/Apertus-8B-Instruct-2509';

/** The variables test/cluster/env.sh exports, evaluated by bash. */
function clusterEnv(): Record<string, string> {
  const result = spawnSync('bash', ['-c', 'source "$1" >/dev/null && env -0', 'env', CLUSTER_ENV], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`cannot source ${CLUSTER_ENV}: ${result.stderr}`);
  return Object.fromEntries(
    result.stdout
      .split('\0')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

function isClusterUp(env: Record<string, string>): boolean {
  const ping = spawnSync('scontrol', ['ping'], { env, encoding: 'utf8', timeout: 15_000 });
  const idle = spawnSync('sinfo', ['-h', '-p', 'normal', '-o', '%D %t'], {
    env,
    encoding: 'utf8',
    timeout: 15_000,
  });
  return (
    ping.status === 0 && /UP/.test(ping.stdout) && idle.status === 0 && !/down|drain|unk/.test(idle.stdout)
  );
}

async function call<T>(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  onProgress?: (m: string) => void,
): Promise<T> {
  const result = (await client.callTool({ name, arguments: args }, undefined, {
    timeout: 900_000,
    resetTimeoutOnProgress: true,
    onprogress: onProgress ? (p) => onProgress(p.message ?? '') : undefined,
  })) as CallToolResult;
  if (result.isError) {
    const text = result.content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');
    throw new Error(`${name} failed: ${text}`);
  }
  return result.structuredContent as T;
}

async function main(): Promise<void> {
  let env = clusterEnv();
  if (!isClusterUp({ ...process.env, ...env } as Record<string, string>)) {
    printOut('Bringing the local SLURM cluster up (test/cluster/up.sh)…');
    const up = spawnSync(join(ROOT, 'test/cluster/up.sh'), { stdio: ['ignore', 2, 2] });
    if (up.status !== 0) throw new Error('test/cluster/up.sh failed; see its output above');
    env = clusterEnv();
  }
  printOut('Local cluster is up: four nodes n1..n4 (10.77.0.11-14).');

  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(ROOT, 'dist/bin/sml-mcp.js'), 'serve'],
    env: {
      ...(process.env as Record<string, string>),
      ...env,
      SML_SYSTEM: 'local',
      SML_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'sml-demo-')),
      SML_LOG_LEVEL: 'warn',
    },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'sml-mcp-demo', version: '1.0.0' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  printOut(`Connected to sml-mcp over stdio; tools: ${tools.map((t) => t.name).join(', ')}`);

  let jobId: string | undefined;
  const cancel = async () => {
    if (!jobId) return;
    const id = jobId;
    jobId = undefined;
    await call(client, 'cancel', { job_id: id, confirm: true });
    printOut(`Cancelled job ${id}.`);
  };
  process.once('SIGINT', () => void cancel().finally(() => process.exit(130)));
  try {
    const launched = await call<LaunchResultView>(client, 'launch', {
      model: MODEL,
      framework: 'sglang',
      time: '00:20:00',
      idempotency_key: `demo-${Date.now()}`,
    });
    jobId = launched.job_ids[0]!;
    printOut(`Launched ${MODEL} as job ${jobId}; served model name ${launched.served_model_name}.`);

    let lastMessage = '';
    const waited = await call<{ jobs: JobStatusView[]; wait: { reached: boolean } }>(
      client,
      'status',
      { job_ids: [jobId], wait_until: 'serving', timeout_s: 300 },
      (message) => {
        if (message === lastMessage) return;
        lastMessage = message;
        printOut(`  … ${message}`);
      },
    );
    const job = waited.jobs[0]!;
    if (!waited.wait.reached) {
      throw new Error(
        `job ${jobId} did not reach serving: ${job.phase} ${job.failure_hint ? `— ${job.failure_hint.cause} ${job.failure_hint.fix}` : ''}`,
      );
    }
    const endpoint = job.endpoints.find((e) => e.kind === 'replica')!;
    printOut(`Serving on ${job.nodes.join(', ')} at ${endpoint.url}`);

    const question = 'In one sentence: what is SLURM?';
    const response = await request(`${endpoint.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: launched.served_model_name,
        messages: [{ role: 'user', content: question }],
        max_tokens: 64,
      }),
    });
    const body = (await response.body.json()) as { choices?: { message: { content: string } }[] };
    if (response.statusCode !== 200 || !body.choices?.[0])
      throw new Error(`chat completion failed: HTTP ${response.statusCode}`);
    printOut(`Q: ${question}`);
    printOut(`A: ${body.choices[0].message.content}`);

    const log = await call<{ text: string }>(client, 'logs', {
      job_id: jobId,
      file: 'replica_0.err',
      tail_lines: 3,
    });
    printOut(`Last lines of replica_0.err:\n${log.text.trimEnd().replace(/^/gm, '  ')}`);
  } finally {
    await cancel().catch((error: Error) => printErr(`cancel failed: ${error.message}`));
    await client.close();
  }
  printOut('Demo finished.');
}

main().catch((error: Error) => {
  printErr(`demo failed: ${error.message}`);
  process.exit(1);
});
