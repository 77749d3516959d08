import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../src/assets.js';
import {
  geminiViolations,
  openAiStrictViolations,
  type Schema,
  toOpenAiStrict,
} from './provider-dialects.js';

/**
 * What an agent pays for sml-mcp, measured over stdio as a client sees it (the shipped bundle):
 * tools/list bytes on the wire, the bytes of a 4-replica + router dry run, the input-schema
 * keywords each provider's dialect rejects, how long calls take against a gateway that never
 * answers, whether a catalog model sizes offline, the cold start to a tools/list answer beside
 * @modelcontextprotocol/server-everything (alternating runs, one process at a time), the warm
 * tools/list round trip, and the CLI's --help. Run: `npm run build && node dist/bench/agent-surface.js`.
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
  /** Progress notifications received so far. */
  progressCount = 0;

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\n'); end >= 0; end = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 1);
        const message = JSON.parse(line) as { id?: number; method?: string };
        if (message.id !== undefined) this.waiting.get(message.id)?.(line);
        else if (message.method === 'notifications/progress') this.progressCount++;
      }
    });
  }

  request(method: string, params: unknown = {}): Promise<string> {
    const id = this.nextId++;
    const answer = new Promise<string>((resolve) => this.waiting.set(id, resolve));
    this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    return answer;
  }

  /** A tools/call asking for progress: its result, and how long it took in seconds. */
  async callTool(name: string, args: unknown): Promise<{ result: ToolResult; seconds: number }> {
    const started = performance.now();
    const line = await this.request('tools/call', {
      name,
      arguments: args,
      _meta: { progressToken: `bench-${this.nextId}` },
    });
    return {
      result: (JSON.parse(line) as { result: ToolResult }).result,
      seconds: (performance.now() - started) / 1000,
    };
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

interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

const firstText = (result: ToolResult) => result.content.find((item) => item.type === 'text')?.text ?? '';

/** Input-schema violations of each provider's dialect (bench/provider-dialects.ts), over every tool. */
function dialectFigures(list: string): string {
  const tools = (JSON.parse(list) as { result: { tools: { inputSchema: Schema }[] } }).result.tools;
  const gemini = tools.flatMap((tool) => geminiViolations(tool.inputSchema)).length;
  const strict = tools.filter(
    (tool) => openAiStrictViolations(toOpenAiStrict(tool.inputSchema)).length === 0,
  ).length;
  return `${gemini} input-schema keywords Gemini rejects; OpenAI strict mode possible for ${strict} of ${tools.length} tools`;
}

/**
 * Calls against a FirecREST gateway that accepts connections and never answers: how long status
 * (timeout_s 5) and list_systems take to give a clear answer, and the progress sent meanwhile.
 */
async function deadlineFigures(env: NodeJS.ProcessEnv): Promise<string[]> {
  const sockets = new Set<Socket>();
  const blackHole = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  const { port } = blackHole.address() as AddressInfo;
  const peer = start([CLI, 'serve'], {
    ...env,
    SML_SYSTEM: 'clariden',
    SML_FIRECREST_URL: `http://127.0.0.1:${port}/v2`,
    SML_FIRECREST_API_KEY: 'bench-api-key-0123456789',
  });
  try {
    await peer.initialize();
    const status = await peer.callTool('status', { job_ids: ['123456'], timeout_s: 5 });
    const progress = peer.progressCount;
    const systems = await peer.callTool('list_systems', { system: 'clariden' });
    const [system] = (systems.result.structuredContent?.systems ?? []) as { error: string | null }[];
    return [
      row(
        'status timeout_s:5, silent gateway',
        `${firstText(status.result).split(' ')[0]} after ${status.seconds.toFixed(1)} s, ${progress} progress notifications`,
      ),
      row(
        'list_systems, silent gateway',
        `answered after ${systems.seconds.toFixed(1)} s: ${(system?.error ?? 'no error').slice(0, 50)}…`,
      ),
    ];
  } finally {
    await peer.close();
    for (const socket of sockets) socket.destroy();
    blackHole.close();
  }
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
/** One figure: its label, padded so the values line up. */
const row = (label: string, value: string) => `${label.padEnd(40)}${value}`;
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
    // A catalog model sized with no Hugging Face access (HF_HUB_OFFLINE=1 above).
    const offline = await peer.callTool('size_model', {
      model: 'swiss-ai/Apertus-8B-Instruct-2509',
      gpu: 'GH200',
    });
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

    const deadlines = await deadlineFigures(env);

    const wall = [median(ours.map((r) => r.wall)), median(theirs.map((r) => r.wall))] as const;
    const cpu = [median(ours.map((r) => r.cpu)), median(theirs.map((r) => r.cpu))] as const;
    print(row('tools/list on the wire', kb(Buffer.byteLength(list))));
    print(row('dry run, 4 replicas + router', kb(Buffer.byteLength(dryRun))));
    print(row('provider dialects', dialectFigures(list)));
    for (const line of deadlines) print(line);
    const layout = (offline.result.structuredContent?.layout ?? {}) as { gpus_per_replica?: number };
    print(
      row(
        'size_model of a catalog model, offline',
        offline.result.isError
          ? `fails: ${firstText(offline.result).slice(0, 60)}`
          : `works (${layout.gpus_per_replica} GPU per replica)`,
      ),
    );
    print(
      row(
        'cold start to tools/list',
        `${wall[0].toFixed(0)} ms vs server-everything ${wall[1].toFixed(0)} ms wall = ${(wall[0] / wall[1]).toFixed(2)}×; CPU ${cpu[0]} vs ${cpu[1]} ms = ${(cpu[0] / cpu[1]).toFixed(2)}× (medians of ${COLD_RUNS}, alternating)`,
      ),
    );
    print(
      row(
        'warm tools/list round trip',
        `${median(warm).toFixed(3)} ms median, ${[...warm].sort((a, b) => a - b)[Math.floor(WARM_CALLS * 0.9)]!.toFixed(3)} ms p90 (${WARM_CALLS} calls)`,
      ),
    );
    print(row('CLI --help', `${(median(help) / 1000).toFixed(3)} s (median of 7)`));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
