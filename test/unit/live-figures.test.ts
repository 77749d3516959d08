import { describe, expect, it } from 'vitest';
import {
  chainPosition,
  formatPercent,
  formatTimeLeft,
  hasLiveEngines,
  summarizeDeployment,
} from '../../src/jobs/live-figures.js';
import type { JobStatusView, MetricsSnapshotView } from '../../src/jobs/types.js';
import { aJob, aReplica } from '../helpers/live-view.js';

function snapshot(at: string, replicas: MetricsSnapshotView['replicas']): MetricsSnapshotView {
  return { job_id: '7', collected_at: at, replicas, replica_health: [] };
}

describe('summarizeDeployment', () => {
  it('sums requests over reachable replicas and keeps the worst KV cache and TTFT', () => {
    const figures = summarizeDeployment(
      snapshot('2026-11-30T03:00:00Z', [
        aReplica({ requests_running: 2, requests_queued: 4, kv_cache_usage: 0.25, ttft: [0.1, 0.9] }),
        aReplica({ requests_running: 1, requests_queued: 0, kv_cache_usage: 0.5, ttft: [0.3, 0.4] }),
        aReplica({ reachable: false, requests_running: 50, kv_cache_usage: 1 }),
      ]),
    );
    expect(figures).toMatchObject({
      requests_running: 3,
      requests_queued: 4,
      kv_cache_usage: 0.5,
      ttft_p50_s: 0.3,
      ttft_p99_s: 0.9,
      replicas_reporting: 2,
    });
  });

  it("takes tokens/s from the engines' gauge first, then from the token counter's growth", () => {
    const first = summarizeDeployment(
      snapshot('2026-11-30T03:00:00Z', [
        aReplica({ generation_throughput_tps: 40, generation_tokens_total: 1000 }),
        aReplica({ generation_throughput_tps: 20, generation_tokens_total: 500 }),
      ]),
    );
    expect(first.tokens_per_s).toBe(60);
    const second = summarizeDeployment(
      snapshot('2026-11-30T03:00:04Z', [
        aReplica({ generation_throughput_tps: 0, generation_tokens_total: 1200 }),
        aReplica({ generation_throughput_tps: 0, generation_tokens_total: 700 }),
      ]),
      first,
    );
    expect(second.tokens_per_s).toBe(100);
  });

  it('falls back to the gauge when a counter went backwards (an engine restarted)', () => {
    const before = summarizeDeployment(
      snapshot('2026-11-30T03:00:00Z', [aReplica({ generation_tokens_total: 5000 })]),
    );
    const after = summarizeDeployment(
      snapshot('2026-11-30T03:00:04Z', [
        aReplica({ generation_throughput_tps: 12, generation_tokens_total: 30 }),
      ]),
      before,
    );
    expect(after.tokens_per_s).toBe(12);
  });

  it('knows nothing when no replica answered', () => {
    const figures = summarizeDeployment(snapshot('2026-11-30T03:00:00Z', [aReplica({ reachable: false })]));
    expect(figures).toMatchObject({ tokens_per_s: null, requests_running: null, kv_cache_usage: null });
  });
});

describe('job facts for the live views', () => {
  it('formats time left as a short clock', () => {
    expect([null, 0, 45, 750, 3900, 90_000].map(formatTimeLeft)).toEqual([
      '',
      '0s',
      '45s',
      '12m30s',
      '1h05m',
      '25h00m',
    ]);
  });
  it('formats small fractions with a decimal, so light use does not read 0%', () => {
    expect([0, 0.006, 0.0949, 0.123, 1].map(formatPercent)).toEqual(['0%', '0.6%', '9.5%', '12%', '100%']);
  });
  it('gives the chain position only for chains', () => {
    expect(chainPosition(aJob({ chain_index: 1, chain_length: 3 }))).toBe('2/3');
    expect(chainPosition(aJob({}))).toBe('');
  });
  it('asks for metrics only while engines answer', () => {
    const phases: JobStatusView['phase'][] = ['queued', 'starting', 'serving', 'degraded', 'ended'];
    expect(phases.filter((phase) => hasLiveEngines(aJob({ phase })))).toEqual(['serving', 'degraded']);
  });
});
