import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../src/assets.js';

/**
 * What an agent pays for sml-mcp, measured over stdio as a client sees it: tools/list bytes on
 * the wire, the bytes of a 4-replica + router dry run, the cold start to a tools/list answer
 * beside @modelcontextprotocol/server-everything (alternating runs, one process at a time), the
 * warm tools/list round trip, and the CLI's --help. Run: `npm run build && node dist/bench/agent-surface.js`.
 */

const CLI = join(PACKAGE_ROOT, 'dist', 'bin', 'sml-mcp.js');
const EVERYTHING = fileURLToPath(
  import.meta.resolve('@modelcontextprotocol/server-everything/dist/index.js'),
);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const WARM_CALLS = 300;

const DRY_RUN = {
  model: 'swiss-ai/Apertus-8B-Instruct-2509',
  framework: 'sglang',
  system: 'clariden',
  replicas: 4,
  router: 'sglang',
  dry_run: true,
};

/** A raw JSON-RPC peer over a child's stdio: every answer is the exact line the server wrote. */
class StdioPeer {
  private buffer = '';
  private readonly waiting = new Map<number, (line: string) => void>();
  private nextId = 1;

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\n'); end >= 0; end = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 1);
        const id = (JSON.parse(line) as { id?: number }).id;
        if (id !== undefined) this.waiting.get(id)?.(line);
      }
    });
  }

  request(method: string, params: unknown = {}): Promise<string> {
    const id = this.nextId++;
    const answer = new Promise<string>((resolve) => this.waiting.set(id, resolve));
    this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    return answer;
  }

  notify(method: string): void {
    this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
  }

  async initialize(): Promise<void> {
    await this.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'bench', version: '0' },
    });
    this.notify('notifications/initialized');
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    setTimeout(() => this.child.kill(), 3000).unref();
    await exited;
  }
}

function start(command: string[], env: NodeJS.ProcessEnv): StdioPeer {
  const child = spawn(process.execPath, command, { stdio: ['pipe', 'pipe', 'ignore'], env });
  return new StdioPeer(child);
}

/** Spawn to tools/list answer: wall time, and the CPU time the server used (steadier on a busy machine), in ms. */
async function coldStart(command: string[], env: NodeJS.ProcessEnv): Promise<{ wall: number; cpu: number }> {
  const started = performance.now();
  const peer = start(command, env);
  await peer.initialize();
  await peer.request('tools/list');
  const wall = performance.now() - started;
  const cpu = cpuMs(peer.child.pid!);
  await peer.close();
  return { wall, cpu };
}

/** utime + stime of a live process from /proc (Linux; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const print = (line: string) => process.stdout.write(`${line}\n`);
const kb = (bytes: number) => `${bytes.toLocaleString('en')} B (${(bytes / 1024).toFixed(1)} KiB)`;

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'sml-bench-'));
  // A machine with nothing configured (no user config, no cluster, no Hub), logging at the default level.
  const env = {
    ...process.env,
    HOME: home,
    SML_CONFIG_DIR: home,
    HF_HUB_OFFLINE: '1',
  };
  try {
    const peer = start([CLI, 'serve'], env);
    await peer.initialize();
    const list = await peer.request('tools/list');
    const dryRun = await peer.request('tools/call', { name: 'launch', arguments: DRY_RUN });
    if ((JSON.parse(dryRun) as { result?: { isError?: boolean } }).result?.isError) {
      throw new Error(`the dry run failed: ${dryRun.slice(0, 500)}`);
    }
    const warm: number[] = [];
    for (let i = 0; i < WARM_CALLS; i++) {
      const started = performance.now();
      await peer.request('tools/list');
      warm.push(performance.now() - started);
    }
    await peer.close();

    const ours: { wall: number; cpu: number }[] = [];
    const theirs: { wall: number; cpu: number }[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      ours.push(await coldStart([CLI, 'serve'], env));
      theirs.push(await coldStart([EVERYTHING, 'stdio'], env));
    }
    const help: number[] = [];
    for (let i = 0; i < 7; i++) {
      const started = performance.now();
      const result = spawnSync(process.execPath, [CLI, '--help'], { env, encoding: 'utf8' });
      help.push(performance.now() - started);
      if (result.status !== 0) throw new Error(`--help exited ${result.status}: ${result.stderr}`);
    }

    const wall = [median(ours.map((r) => r.wall)), median(theirs.map((r) => r.wall))] as const;
    const cpu = [median(ours.map((r) => r.cpu)), median(theirs.map((r) => r.cpu))] as const;
    print(`tools/list on the wire          ${kb(Buffer.byteLength(list))}`);
    print(`dry run, 4 replicas + router    ${kb(Buffer.byteLength(dryRun))}`);
    print(
      `cold start to tools/list        ${wall[0].toFixed(0)} ms vs server-everything ${wall[1].toFixed(0)} ms wall = ${(wall[0] / wall[1]).toFixed(2)}×; CPU ${cpu[0]} vs ${cpu[1]} ms = ${(cpu[0] / cpu[1]).toFixed(2)}× (medians of ${COLD_RUNS}, alternating)`,
    );
    print(
      `warm tools/list round trip      ${median(warm).toFixed(3)} ms median, ${[...warm].sort((a, b) => a - b)[Math.floor(WARM_CALLS * 0.9)]!.toFixed(3)} ms p90 (${WARM_CALLS} calls)`,
    );
    print(`CLI --help                      ${(median(help) / 1000).toFixed(3)} s (median of 7)`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
