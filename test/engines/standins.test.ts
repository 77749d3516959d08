/**
 * The stand-in engines on this machine's loopback, without SLURM: router round robin, streaming,
 * model checks, argument errors, failure switches and the OpenTela stand-in's record and exit code.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { probe } from '../cluster/jobs.js';
import { waitFor } from '../helpers/cluster.js';

const ENGINES = fileURLToPath(new URL('../engines', import.meta.url));
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const MODEL = mkdtempSync(join(tmpdir(), 'sml-standin-model-'));
writeFileSync(join(MODEL, 'config.json'), JSON.stringify({ architectures: ['LlamaForCausalLM'] }));

const running: ResultPromise[] = [];

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function start(argv: string[], env: Record<string, string> = {}) {
  const child = execa(PYTHON, argv, {
    env: {
      PYTHONPATH: join(ENGINES, 'python'),
      PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ in the checkout
      SML_STANDIN_STARTUP_S: '0.2',
      SML_STANDIN_ACCESS_LOG: '0',
      ...env,
    },
    reject: false,
    cwd: tmpdir(),
  });
  running.push(child);
  return child;
}

const sglang = (port: number, extra: string[] = [], env: Record<string, string> = {}) =>
  start(['-m', 'sglang.launch_server', '--model-path', MODEL, '--port', String(port), ...extra], env);
const vllm = (port: number, extra: string[] = [], env: Record<string, string> = {}) =>
  start(
    [join(ENGINES, 'bin', 'vllm'), 'serve', MODEL, '--host', '127.0.0.1', '--port', String(port), ...extra],
    env,
  );

const healthy = (port: number) =>
  waitFor(async () => (await probe(`http://127.0.0.1:${port}/health`)).status === 200, {
    timeoutMs: 20_000,
    what: `the stand-in on port ${port} to be healthy`,
  });

async function chat(port: number, body: Record<string, unknown>) {
  const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi there' }], ...body }),
  });
  return { status: response.status, text: await response.text() };
}

interface Timed {
  ttftS: number;
  meanItlS: number;
  tokens: number;
}

/** A streaming chat request timed like a load generator: first content token, then the gaps. */
async function timedStream(port: number, body: Record<string, unknown>): Promise<Timed> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
  const arrivals: number[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(part, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      if (!event.startsWith('data: {')) continue;
      const chunk = JSON.parse(event.slice(6)) as { choices: { delta: { content?: string } }[] };
      if (chunk.choices[0]?.delta.content) arrivals.push(performance.now());
    }
  }
  const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
  return {
    ttftS: ((arrivals[0] ?? performance.now()) - started) / 1000,
    meanItlS: gaps.reduce((a, b) => a + b, 0) / Math.max(1, gaps.length) / 1000,
    tokens: arrivals.length,
  };
}

function gauge(metrics: string, name: string): number {
  return Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
}

describe('stand-in engines (loopback, no SLURM)', () => {
  it('the router waits for its workers, then spreads requests round robin and relays streams', async () => {
    const [a, b, routerPort] = [await freePort(), await freePort(), await freePort()];
    sglang(a, ['--served-model-name', 'me/m']);
    vllm(b, ['--served-model-name', 'me/m']);
    start([
      '-m',
      'sglang_router.launch_router',
      '--host',
      '127.0.0.1',
      '--port',
      String(routerPort),
      '--worker-urls',
      `http://127.0.0.1:${a}`,
      `http://127.0.0.1:${b}`,
    ]);
    await healthy(a);
    await healthy(b);
    await healthy(routerPort);
    const engines = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const answer = await chat(routerPort, { model: 'me/m' });
      expect(answer.status).toBe(200);
      engines.add(/\((\w+) stand-in\)/.exec(answer.text)![1]!);
    }
    expect([...engines].sort()).toEqual(['sglang', 'vllm']);

    const stream = await chat(routerPort, { model: 'me/m', stream: true, max_tokens: 3 });
    const events = stream.text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const words = events
      .slice(0, -1)
      .map(
        (event) => JSON.parse(event.slice('data: '.length)) as { choices: { delta: { content?: string } }[] },
      )
      .map((chunk) => chunk.choices[0]?.delta.content ?? '')
      .join('');
    expect(words).toBe('Hello from me/m');
  });

  it('vLLM refuses a model it does not serve; metrics count what was served', async () => {
    const port = await freePort();
    vllm(port, ['--served-model-name', 'me/a', 'me/b']);
    await healthy(port);
    const models = JSON.parse((await probe(`http://127.0.0.1:${port}/v1/models`)).body) as {
      data: { id: string }[];
    };
    expect(models.data.map((m) => m.id)).toEqual(['me/a', 'me/b']);
    const wrong = await chat(port, { model: 'someone/else' });
    expect(wrong.status).toBe(404);
    expect(wrong.text).toContain('The model `someone/else` does not exist.');
    const counter = async () =>
      Number(
        /^vllm:generation_tokens_total\{[^}]*\} (\S+)$/m.exec(
          (await probe(`http://127.0.0.1:${port}/metrics`)).body,
        )?.[1],
      );
    const before = await counter();
    expect((await chat(port, { model: 'me/b', max_tokens: 2 })).status).toBe(200);
    expect(await counter()).toBe(before + 2);
  });

  it('streams at the set token rate after the set time to first token, and queues past --max-num-seqs', async () => {
    const port = await freePort();
    vllm(port, ['--served-model-name', 'me/m', '--max-num-seqs', '2'], {
      SML_STANDIN_TTFT_S: '0.3',
      SML_STANDIN_TOKENS_PER_S: '20',
    });
    await healthy(port);
    const body = { model: 'me/m', stream: true, max_tokens: 20, ignore_eos: true };
    const streams = [0, 1, 2, 3].map(() => timedStream(port, body));
    await new Promise((resolve) => setTimeout(resolve, 600));
    const gauges = (await probe(`http://127.0.0.1:${port}/metrics`)).body;
    expect(gauge(gauges, 'vllm:num_requests_running')).toBe(2);
    expect(gauge(gauges, 'vllm:num_requests_waiting')).toBe(2);
    expect(gauge(gauges, 'vllm:kv_cache_usage_perc')).toBeGreaterThan(0);

    const runs = (await Promise.all(streams)).sort((a, b) => a.ttftS - b.ttftS);
    for (const run of runs) expect(run.tokens).toBe(20);
    // Sleeps set lower bounds exactly; the upper bounds leave room for a busy machine.
    const [first, second, third, fourth] = runs as [Timed, Timed, Timed, Timed];
    for (const admitted of [first, second]) {
      expect(admitted.ttftS).toBeGreaterThanOrEqual(0.3);
      expect(admitted.ttftS).toBeLessThan(0.9);
      expect(admitted.meanItlS).toBeGreaterThanOrEqual(0.045);
      expect(admitted.meanItlS).toBeLessThan(0.09);
    }
    // The other two waited for a slot: one whole sequence (0.3 s + 19 × 0.05 s) longer.
    for (const queued of [third, fourth]) expect(queued.ttftS).toBeGreaterThanOrEqual(1.5);
    const after = (await probe(`http://127.0.0.1:${port}/metrics`)).body;
    expect(gauge(after, 'vllm:num_requests_waiting')).toBe(0);
    expect(gauge(after, 'vllm:kv_cache_usage_perc')).toBe(0);
    expect(gauge(after, 'vllm:time_to_first_token_seconds_count')).toBe(4);
  });

  it('sglang serves /metrics only with --enable-metrics, and rejects stray positional words', async () => {
    const port = await freePort();
    sglang(port);
    await healthy(port);
    expect((await probe(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    const stray = await sglang(await freePort(), ['--tp-size', '1', 'oops']);
    expect(stray.exitCode).toBe(2);
    expect(stray.stderr).toContain('error: unrecognized arguments: oops');
  });

  it('honours SML_STANDIN_FAIL=exit_after_ready and =unhealthy after being ready', async () => {
    const exiting = await freePort();
    const child = sglang(exiting, [], {
      SML_STANDIN_FAIL: 'exit_after_ready',
      SML_STANDIN_FAIL_AFTER_S: '1',
    });
    const result = await child;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('The server is fired up and ready to roll!');

    const flaky = await freePort();
    sglang(flaky, [], { SML_STANDIN_FAIL: 'unhealthy', SML_STANDIN_FAIL_AFTER_S: '1' });
    await healthy(flaky);
    await waitFor(async () => (await probe(`http://127.0.0.1:${flaky}/health`)).status === 503, {
      timeoutMs: 20_000,
      what: '/health to turn 503',
    });
  });

  it('prints CUDA_VISIBLE_DEVICES and refuses more GPUs than it sees', async () => {
    const result = await sglang(await freePort(), ['--tp-size', '4'], {
      CUDA_VISIBLE_DEVICES: '2,3',
      SML_STANDIN_STARTUP_S: '0',
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('CUDA_VISIBLE_DEVICES=2,3');
    expect(result.stderr).toContain('RuntimeError: CUDA error: invalid device ordinal');
  });

  it('OpenTela runs its command without a shell, records its labels and exits with the child code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sml-otela-'));
    writeFileSync(join(dir, 'cmd.sh'), 'printf "%s|" "$@" >"$(dirname "$0")/args.txt"; exit 7\n');
    const result = await start(
      [
        join(ENGINES, 'bin', 'otela'),
        'start',
        '--bootstrap.addr',
        '/ip4/127.0.0.1/tcp/1/p2p/QmTest',
        '--service.name',
        'llm',
        '--service.port',
        '8080',
        '--label',
        'served_model_name=me/m',
        '--label',
        'framework_args=--port 8080 --tp-size 4',
        '--subprocess',
        `bash ${join(dir, 'cmd.sh')} "two words"`,
      ],
      { SLURM_JOB_ID: '4242', SML_OTELA_RECORD_DIR: dir, SML_OTELA_PORT: String(await freePort()) },
    );
    expect(result.exitCode).toBe(7);
    // Whitespace splitting, no shell: the quotes reach the child as literal characters.
    expect(readFileSync(join(dir, 'args.txt'), 'utf8')).toBe('"two|words"|');
    const records = readFileSync(
      join(dir, `otela-4242-${(await execa('hostname')).stdout.trim()}.json`),
      'utf8',
    );
    const record = JSON.parse(records) as { labels: Record<string, string>; service: unknown; id: string };
    expect(record.labels).toEqual({ served_model_name: 'me/m', framework_args: '--port 8080 --tp-size 4' });
    expect(record.service).toEqual({ name: 'llm', port: '8080' });
    expect(record.id).toMatch(/^Qm[1-9A-HJ-NP-Za-km-z]+$/);
  });
});
