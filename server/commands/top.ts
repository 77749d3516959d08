import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { metricsUri } from '../../resources/uris.js';
import {
  chainPosition,
  compareForDisplay,
  type DeploymentFigures,
  formatPercent,
  formatTimeLeft,
  hasLiveEngines,
  summarizeDeployment,
} from '../../src/jobs/live-figures.js';
import type { JobStatusView, MetricsSnapshotView } from '../../src/jobs/types.js';
import type { ToolCaller } from './context.js';
import { EXIT, printOut } from './print.js';
import { runCommand } from './run.js';

export const DEFAULT_WATCH_INTERVAL_S = 5;

/** `sml-mcp top [JOB…]`: the live table of `status --watch` under a name people already type. */
export function registerTopCommand(program: Command): void {
  program
    .command('top')
    .description('Live table of your deployments (same as status --watch); Ctrl-C to quit')
    .argument('[jobs...]', 'SLURM job ids (default: all your sml-mcp jobs)')
    .option(
      '--interval <seconds>',
      `Seconds between refreshes (default ${DEFAULT_WATCH_INTERVAL_S})`,
      parseInterval,
    )
    .action(async (jobs: string[], options: { interval?: number }) =>
      runCommand(program, (tools, global) =>
        watchJobs(tools, {
          jobIds: jobs.length > 0 ? jobs : undefined,
          intervalS: options.interval ?? DEFAULT_WATCH_INTERVAL_S,
          isJson: global.json === true,
        }),
      ),
    );
}

export function parseInterval(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`expects seconds between refreshes (1 or more), got '${value}'.`);
  return Number(value);
}

export interface WatchOptions {
  jobIds: string[] | undefined;
  intervalS: number;
  /** One JSON object per refresh (for scripts) instead of the table. */
  isJson: boolean;
}

interface Row {
  job: JobStatusView;
  figures: DeploymentFigures | undefined;
}

/**
 * Redraw the table every `intervalS` until Ctrl-C. On a terminal it takes the alternate screen
 * (restored on exit) like top(1); piped, it prints one plain line per job per refresh.
 */
export async function watchJobs(tools: ToolCaller, options: WatchOptions): Promise<number> {
  const isTerminal = process.stdout.isTTY === true && !options.isJson;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const previous = new Map<string, DeploymentFigures>();
  let rows: Row[] | undefined;
  if (isTerminal) process.stdout.write('\x1b[?1049h\x1b[?25l');
  try {
    while (!stop.signal.aborted) {
      let problem: string | undefined;
      try {
        rows = await collectRows(tools, options.jobIds, previous, roundSignal(stop.signal));
      } catch (error) {
        if (stop.signal.aborted) break;
        // The first answer decides (a wrong job id is an error); later hiccups show under the last table.
        if (!rows) throw error;
        problem = error instanceof Error ? error.message : String(error);
      }
      const now = new Date();
      if (options.isJson)
        printOut(
          JSON.stringify({ at: now.toISOString(), jobs: rows.map(toJsonRow), error: problem ?? null }),
        );
      else if (isTerminal)
        process.stdout.write(
          redraw(
            renderTable(rows, {
              now,
              intervalS: options.intervalS,
              width: process.stdout.columns ?? 120,
              height: process.stdout.rows ?? 40,
              problem,
            }),
          ),
        );
      else printOut(renderPlainLines(rows, now, problem).join('\n'));
      // Ctrl-C ends the pause early: the loop then sees the stop signal and exits.
      await sleep(options.intervalS * 1000, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (isTerminal) process.stdout.write('\x1b[?25h\x1b[?1049l');
  }
  return EXIT.ok;
}

async function collectRows(
  tools: ToolCaller,
  jobIds: string[] | undefined,
  previous: Map<string, DeploymentFigures>,
  signal: AbortSignal,
): Promise<Row[]> {
  const { structured } = await tools.call<{ jobs: JobStatusView[] }>(
    'status',
    { job_ids: jobIds },
    { signal },
  );
  return Promise.all(
    [...structured.jobs].sort(compareForDisplay).map(async (job): Promise<Row> => {
      if (!hasLiveEngines(job)) {
        previous.delete(job.job_id);
        return { job, figures: undefined };
      }
      try {
        const snapshot = JSON.parse(
          await tools.read(metricsUri(job.job_id), { signal }),
        ) as MetricsSnapshotView;
        const figures = summarizeDeployment(snapshot, previous.get(job.job_id));
        previous.set(job.job_id, figures);
        return { job, figures };
      } catch {
        // Metrics are a bonus: the row still shows the job's phase and health.
        return { job, figures: previous.get(job.job_id) };
      }
    }),
  );
}

const COLUMNS = [
  'JOB',
  'MODEL',
  'PHASE',
  'REPLICAS',
  'TOK/S',
  'RUN',
  'QUEUE',
  'TTFT p50/p99',
  'KV',
  'LEFT',
  'CHAIN',
];

/** The cells of one job, in COLUMNS order; '-' where a figure is not known. */
export function rowCells({ job, figures }: Row): string[] {
  const phase = job.phase === 'ended' ? `ended(${job.end_reason ?? 'unknown'})` : job.phase;
  const replicas = job.replicas_expected > 0 ? `${job.replicas_healthy}/${job.replicas_expected}` : '-';
  return [
    job.job_id,
    job.served_model_name || '(recorded elsewhere)',
    phase,
    job.phase === 'queued' || job.phase === 'ended' ? '-' : replicas,
    number(figures?.tokens_per_s, 1),
    number(figures?.requests_running, 0),
    number(figures?.requests_queued, 0),
    figures && (figures.ttft_p50_s !== null || figures.ttft_p99_s !== null)
      ? `${number(figures.ttft_p50_s, 2)}/${number(figures.ttft_p99_s, 2)} s`
      : '-',
    figures?.kv_cache_usage != null ? formatPercent(figures.kv_cache_usage) : '-',
    formatTimeLeft(job.time_left_s) || '-',
    chainPosition(job) || '-',
  ];
}

/**
 * The whole screen: a header line, the column titles and one line per job (running ones first),
 * fitted to `width` and `height` so the screen never scrolls.
 */
export function renderTable(
  rows: Row[],
  context: { now: Date; intervalS: number; width: number; height: number; problem?: string },
): string[] {
  const header = `sml-mcp top — ${rows.length} job(s) — ${clock(context.now)}, every ${context.intervalS} s — Ctrl-C to quit`;
  const cells = rows.map(rowCells);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...cells.map((row) => row[i]!.length)));
  // The model name gives way first when the terminal is narrow.
  const others = widths.reduce((sum, w, i) => (i === 1 ? sum : sum + w + 2), 0);
  widths[1] = Math.max(12, Math.min(widths[1]!, context.width - others - 2));
  const line = (row: string[]) =>
    row
      .map((cell, i) => {
        const fitted = cell.length > widths[i]! ? `${cell.slice(0, widths[i]! - 1)}…` : cell;
        return i >= 4 && i <= 8 ? fitted.padStart(widths[i]!) : fitted.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  const footer: string[] = [];
  if (rows.length === 0) footer.push('No sml-mcp jobs. Launch one with `sml-mcp launch`.');
  if (context.problem) footer.push('', `Last refresh failed: ${context.problem}`);
  const room = Math.max(1, context.height - 3 - footer.length);
  const shown = cells.length > room ? cells.slice(0, room - 1) : cells;
  const lines = [header, '', line(COLUMNS), ...shown.map(line)];
  if (shown.length < cells.length)
    lines.push(`… ${cells.length - shown.length} more jobs (\`sml-mcp status\` lists them all)`);
  lines.push(...footer);
  return lines.map((text) => (text.length > context.width ? text.slice(0, context.width) : text));
}

/** Not a terminal: one self-contained line per job and refresh, for logs and pipes. */
export function renderPlainLines(rows: Row[], now: Date, problem?: string): string[] {
  const time = clock(now);
  if (problem) return [`${time} refresh failed: ${problem}`];
  if (rows.length === 0) return [`${time} no sml-mcp jobs`];
  return rows.map((row) => {
    const [job, model, phase, replicas, tps, running, queued, ttft, kv, left, chain] = rowCells(row);
    return `${time} job ${job} ${model} ${phase} replicas ${replicas} tok/s ${tps} running ${running} queued ${queued} ttft ${ttft} kv ${kv} left ${left} chain ${chain}`;
  });
}

function toJsonRow({ job, figures }: Row) {
  return { ...job, figures: figures ?? null };
}

/** Home, each line cleared to its end, then the rest of the screen cleared: no flicker. */
function redraw(lines: string[]): string {
  return `\x1b[H${lines.map((text) => `${text}\x1b[K`).join('\n')}\x1b[J`;
}

function number(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined ? '-' : value.toFixed(digits);
}

function clock(date: Date): string {
  return date.toTimeString().slice(0, 8);
}

/**
 * A signal for one refresh that follows Ctrl-C: each request of the round listens on it, and a
 * fresh one per round keeps those listeners from piling up on one long-lived signal.
 */
function roundSignal(stop: AbortSignal): AbortSignal {
  const signal = AbortSignal.any([stop]);
  setMaxListeners(0, signal);
  return signal;
}
