import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printOut } from '../server/commands/print.js';
import type { LoadTestView } from '../src/loadtest/view.js';

/**
 * Load-test figures on the local cluster, through the CLI a person uses: a stand-in deployment told
 * its speed (first token 0.2 s after admission, 25 tokens/s per sequence, at most 4 sequences per
 * replica) is swept over 1-16 concurrent streams; then two replicas behind the sglang router take
 * the top level. Prints measured against what the stand-in's settings predict, the saturation
 * point, a right-size recommendation and the chart's path.
 * Run (cluster up, nobody else's jobs on it): `npm run build && node dist/bench/loadtest.js`.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist/bin/sml-mcp.js');
const TTFT_S = 0.2;
const TOKENS_PER_S = 25;
const LIMIT = 4;
const MAX_TOKENS = 64;
const LEVELS = [1, 2, 4, 8, 16];
const STEP_S = 15;
const E2E_S = TTFT_S + (MAX_TOKENS - 1) / TOKENS_PER_S;

const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  ...clusterEnv(),
  SML_SYSTEM: 'local',
  SML_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'sml-bench-loadtest-')),
};

function clusterEnv(): Record<string, string> {
  const file = join(ROOT, 'test/cluster/env.sh');
  const result = spawnSync('bash', ['-c', 'source "$1" >/dev/null && env -0', 'env', file], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`cannot source ${file}: ${result.stderr}`);
  return Object.fromEntries(
    result.stdout
      .split('\0')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

function sml(args: string[]): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`sml-mcp ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

function launch(replicas: number): string {
  const out = sml([
    '--json',
    'launch',
    '--model',
    'swiss-ai/Apertus-8B-Instruct-2509',
    '--framework',
    'sglang',
    '--time',
    '00:30:00',
    '--disable-opentela',
    '--replicas',
    String(replicas),
    ...(replicas > 1 ? ['--router', 'sglang'] : []),
    `--framework-args=--max-running-requests ${LIMIT}`,
    '--pre-launch-cmds',
    `export SML_STANDIN_TTFT_S=${TTFT_S} SML_STANDIN_TOKENS_PER_S=${TOKENS_PER_S}`,
  ]);
  return (JSON.parse(out) as { job_id: string }).job_id;
}

function sweep(jobId: string, levels: number[], target: string[] = []): LoadTestView {
  const out = sml([
    '--json',
    'loadtest',
    'start',
    jobId,
    '--concurrency',
    levels.join(','),
    '--duration-s',
    String(STEP_S),
    '--prompt-tokens',
    '64',
    '--max-tokens',
    String(MAX_TOKENS),
    ...target,
    '--wait',
  ]);
  return JSON.parse(out) as LoadTestView;
}

const pct = (measured: number, expected: number) =>
  `${(((measured - expected) / expected) * 100).toFixed(1)}%`;
const jobs: string[] = [];
try {
  printOut(
    `Stand-in: TTFT ${TTFT_S} s, ${TOKENS_PER_S} tok/s per sequence, ≤ ${LIMIT} sequences per replica; ${MAX_TOKENS}-token answers (E2E ${E2E_S.toFixed(2)} s).`,
  );
  const single = launch(1);
  jobs.push(single);
  const run = sweep(single, LEVELS, ['--target-rps', '20', '--target-p99-ttft-s', '1']);
  printOut(`\nOne replica (job ${single}), load test ${run.run_id}, ${STEP_S} s per step:`);
  printOut('streams  req/s (model)        tok/s (model)          TTFT p50 / p99     ITL p50   queued(peak)');
  for (const step of run.steps) {
    const c = step.concurrency!;
    const rps = Math.min(c, LIMIT) / E2E_S;
    const queueWait = c > LIMIT ? E2E_S * (c / LIMIT - 1) : 0;
    printOut(
      `${String(c).padStart(7)}  ${step.requests_per_s.toFixed(2).padStart(5)} (${rps.toFixed(2)}, ${pct(step.requests_per_s, rps).padStart(6)})  ${step.output_tokens_per_s.toFixed(1).padStart(6)} (${(rps * MAX_TOKENS).toFixed(1)}, ${pct(step.output_tokens_per_s, rps * MAX_TOKENS).padStart(6)})  ${step.ttft_s.p50?.toFixed(2)} / ${step.ttft_s.p99?.toFixed(2)} s (model ${(TTFT_S + queueWait).toFixed(2)})  ${step.itl_s.p50?.toFixed(4)}  ${step.engine_peak.requests_queued ?? 'n/a'}`,
    );
  }
  if (run.run.stopped_early) printOut(`Stopped early: ${run.run.stopped_early}.`);
  printOut(`Saturation: ${run.saturation?.explanation ?? 'not reached'} (stand-in limit: ${LIMIT})`);
  if (run.recommend)
    printOut(`Right-size for 20 req/s, p99 TTFT ≤ 1 s:\n  ${run.recommend.arithmetic.join('\n  ')}`);
  printOut(`Chart: ${run.run.chart_path}`);

  const pair = launch(2);
  jobs.push(pair);
  const routed = sweep(pair, [2 * LIMIT]);
  const singleAt = run.steps.find((s) => s.concurrency === 2 * LIMIT)!;
  const both = routed.steps[0]!;
  printOut(
    `\nTwo replicas behind the router (job ${pair}) at ${2 * LIMIT} streams: ${both.requests_per_s.toFixed(2)} req/s vs ${singleAt.requests_per_s.toFixed(2)} for one replica: ×${(both.requests_per_s / singleAt.requests_per_s).toFixed(2)} (model ×2).`,
  );
} finally {
  for (const job of jobs)
    spawnSync(process.execPath, [CLI, 'cancel', job, '--yes'], { env, encoding: 'utf8' });
}
