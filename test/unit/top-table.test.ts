import { describe, expect, it, vi } from 'vitest';
import type { ToolCaller } from '../../server/commands/context.js';
import { renderPlainLines, renderTable, rowCells, watchJobs } from '../../server/commands/top.js';
import type { DeploymentFigures } from '../../src/jobs/live-figures.js';
import { aJob } from '../helpers/live-view.js';

const figures: DeploymentFigures = {
  at_ms: 0,
  tokens_per_s: 61.25,
  requests_running: 2,
  requests_queued: 4,
  kv_cache_usage: 0.123,
  ttft_p50_s: 0.21,
  ttft_p99_s: 1.5,
  replicas_reporting: 1,
  generation_tokens_total: 900,
};
const now = new Date(2026, 10, 30, 3, 4, 5);

describe('the sml-mcp top table', () => {
  it('shows phase, health, throughput, queue, TTFT, KV cache, time left and chain position', () => {
    const job = aJob({
      job_id: '41',
      chain_index: 1,
      chain_length: 3,
      replicas_expected: 2,
      replicas_healthy: 1,
    });
    expect(rowCells({ job, figures })).toEqual([
      '41',
      'alice/swiss-ai/Apertus-8B',
      'serving',
      '1/2',
      '61.3',
      '2',
      '4',
      '0.21/1.50 s',
      '12%',
      '50m00s',
      '2/3',
    ]);
  });

  it('puts dashes where nothing is known and the end reason on ended jobs', () => {
    const job = aJob({ job_id: '42', phase: 'ended', end_reason: 'cancelled', time_left_s: null });
    expect(rowCells({ job, figures: undefined })).toEqual([
      '42',
      'alice/swiss-ai/Apertus-8B',
      'ended(cancelled)',
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
    ]);
  });

  it('fits the terminal width, shortening the model name first', () => {
    const job = aJob({ served_model_name: `alice/${'very-long-model-name-'.repeat(6)}` });
    const lines = renderTable([{ job, figures }], { now, intervalS: 5, width: 110, height: 30 });
    expect(lines[0]).toBe('sml-mcp top — 1 job(s) — 03:04:05, every 5 s — Ctrl-C to quit');
    expect(lines[2]).toMatch(
      /^JOB\s+MODEL\s+PHASE\s+REPLICAS\s+TOK\/S\s+RUN\s+QUEUE\s+TTFT p50\/p99\s+KV\s+LEFT\s+CHAIN$/,
    );
    expect(lines[3]).toContain('alice/very-long');
    expect(lines[3]).toContain('…');
    expect(lines[3]).toMatch(/serving\s+1\/1\s+61\.3\s+2\s+4\s+0\.21\/1\.50 s\s+12%\s+50m00s\s+-$/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(110);
  });

  it('says so when there are no jobs or the refresh failed', () => {
    const lines = renderTable([], {
      now,
      intervalS: 5,
      width: 120,
      height: 30,
      problem: '[CLUSTER_UNREACHABLE] ssh failed',
    });
    expect(lines).toContain('No sml-mcp jobs. Launch one with `sml-mcp launch`.');
    expect(lines.at(-1)).toBe('Last refresh failed: [CLUSTER_UNREACHABLE] ssh failed');
  });

  it('never scrolls: rows past the terminal height give way to a count', () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({ job: aJob({ job_id: String(100 + i) }), figures }));
    const lines = renderTable(rows, { now, intervalS: 5, width: 120, height: 12 });
    expect(lines).toHaveLength(12);
    expect(lines.at(-1)).toBe('… 22 more jobs (`sml-mcp status` lists them all)');
  });

  it('prints one self-contained plain line per job when stdout is not a terminal', () => {
    const lines = renderPlainLines([{ job: aJob({ job_id: '43' }), figures }], now);
    expect(lines).toEqual([
      '03:04:05 job 43 alice/swiss-ai/Apertus-8B serving replicas 1/1 tok/s 61.3 running 2 queued 4 ttft 0.21/1.50 s kv 12% left 50m00s chain -',
    ]);
    expect(renderPlainLines([], now)).toEqual(['03:04:05 no sml-mcp jobs']);
  });
});

describe('the sml-mcp top loop', () => {
  it('prints one JSON object per refresh and keeps the last jobs when a refresh fails', async () => {
    const job = aJob({ job_id: '44', phase: 'queued' });
    let calls = 0;
    const tools: ToolCaller = {
      async call<T>(_name: string, _args: unknown, options?: { signal?: AbortSignal }) {
        calls += 1;
        if (calls === 2) throw new Error('[CLUSTER_UNREACHABLE] squeue timed out');
        // Ctrl-C during the third refresh: the client drops the call, as the SDK's does.
        if (calls === 3) process.emit('SIGINT');
        if (options?.signal?.aborted) throw new Error('This operation was aborted');
        return { structured: { jobs: [job] } as T, text: '' };
      },
      read: async () => '',
      close: async () => undefined,
      config: {} as ToolCaller['config'],
    };
    const printed: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      expect(await watchJobs(tools, { jobIds: undefined, intervalS: 0.01, isJson: true })).toBe(0);
    } finally {
      write.mockRestore();
    }
    const refreshes = printed.map((line) => JSON.parse(line));
    expect(refreshes.map((r) => [r.jobs.map((j: { job_id: string }) => j.job_id), r.error])).toEqual([
      [['44'], null],
      [['44'], '[CLUSTER_UNREACHABLE] squeue timed out'],
    ]);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });
});
