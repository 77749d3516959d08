import { describe, expect, it } from 'vitest';
import {
  deriveLifecycle,
  hasReached,
  parseHealthReport,
  timeBudget,
  UNLISTED_GRACE_S,
} from '../../src/jobs/lifecycle.js';
import type { JobInfo } from '../../src/scheduler/scheduler.js';

const running: JobInfo = { jobId: '7', state: 'RUNNING', rawState: 'RUNNING' };
const now = 1_800_000_000;

function report(healths: string[], lastSeen: (number | null)[], checkedAt = now - 5): string {
  return JSON.stringify({
    checked_at: checkedAt,
    replicas: healths.map((health, i) => ({
      node_rank: i,
      node_ip: `10.0.0.${i}`,
      node_host: `n${i}`,
      peer_id: null,
      health,
      last_seen: lastSeen[i],
    })),
  });
}

describe('parseHealthReport', () => {
  it('maps unknown health to ERROR and fills the default port', () => {
    const parsed = parseHealthReport(report(['HEALTHY', 'WEIRD'], [now, null]), 8080);
    expect(parsed?.replicas.map((r) => [r.health, r.port, r.node_ip])).toEqual([
      ['HEALTHY', 8080, '10.0.0.0'],
      ['ERROR', 8080, '10.0.0.1'],
    ]);
  });
  it("keeps only IP literals of compute nodes, on the job's own nodes, and sane ports", () => {
    const text = JSON.stringify({
      checked_at: now,
      replicas: [
        { node_host: 'n0', node_ip: '10.1.2.3', port: 8080, health: 'HEALTHY' },
        { node_host: 'n1.cluster.example', node_ip: 'fd00::5', port: 70000, health: 'HEALTHY' },
        { node_host: 'n0', node_ip: 'example.com', health: 'HEALTHY' },
        { node_host: 'n0', node_ip: '127.0.0.1', health: 'HEALTHY' },
        { node_host: 'n0', node_ip: '::ffff:127.0.0.1', health: 'HEALTHY' },
        { node_host: 'n0', node_ip: '169.254.169.254', health: 'HEALTHY' },
        { node_host: 'elsewhere', node_ip: '10.1.2.4', health: 'HEALTHY' },
      ],
    });
    const parsed = parseHealthReport(text, 8080, ['n0', 'n1']);
    expect(parsed?.replicas.map((r) => [r.node_ip, r.port])).toEqual([
      ['10.1.2.3', 8080],
      ['fd00::5', 8080],
      [null, 8080],
      [null, 8080],
      [null, 8080],
      [null, 8080],
      [null, 8080],
    ]);
    // Without the job's node list, any node address is kept.
    expect(parseHealthReport(text, 8080)?.replicas[6]?.node_ip).toBe('10.1.2.4');
  });

  it('treats malformed JSON as no report', () => {
    expect(parseHealthReport('{"checked_at": 1, "repl', 8080)).toBeUndefined();
    expect(parseHealthReport('[]', 8080)).toBeUndefined();
  });
});

describe('deriveLifecycle', () => {
  it('walks queued → starting → serving → degraded → ended', () => {
    expect(deriveLifecycle({ ...running, state: 'PENDING' }, undefined, 2, now).phase).toBe('queued');
    expect(deriveLifecycle(running, undefined, 2, now).phase).toBe('starting');
    const starting = parseHealthReport(report(['NOT_DEPLOYED', 'HEALTHY'], [null, now]), 8080);
    expect(deriveLifecycle(running, starting, 2, now)).toMatchObject({
      phase: 'starting',
      replicas_healthy: 1,
    });
    const serving = parseHealthReport(report(['HEALTHY', 'HEALTHY'], [now, now]), 8080);
    expect(deriveLifecycle(running, serving, 2, now)).toMatchObject({
      phase: 'serving',
      health_report_age_s: 5,
    });
    const degraded = parseHealthReport(report(['HEALTHY', 'NOT_RESPONDING'], [now, now - 60]), 8080);
    expect(deriveLifecycle(running, degraded, 2, now).phase).toBe('degraded');
    expect(
      deriveLifecycle({ ...running, state: 'CANCELLED', rawState: 'CANCELLED by 0' }, serving, 2, now),
    ).toMatchObject({
      phase: 'ended',
      end_reason: 'cancelled',
    });
  });
  it('behind a router, serves only once the router answers too', () => {
    const withRouter = (health: string, lastSeen: number | null) =>
      parseHealthReport(
        JSON.stringify({
          ...JSON.parse(report(['HEALTHY', 'HEALTHY'], [now, now])),
          router: { url: 'http://10.0.0.0:30000', health, last_seen: lastSeen },
        }),
        8080,
      );
    expect(deriveLifecycle(running, withRouter('NOT_DEPLOYED', null), 2, now).phase).toBe('starting');
    expect(deriveLifecycle(running, withRouter('HEALTHY', now), 2, now).phase).toBe('serving');
    expect(deriveLifecycle(running, withRouter('ERROR', now - 10), 2, now).phase).toBe('degraded');
  });
  it('does not call a stale report serving', () => {
    const stale = parseHealthReport(report(['HEALTHY'], [now - 600], now - 600), 8080);
    expect(deriveLifecycle(running, stale, 1, now).phase).toBe('degraded');
  });
  it('maps every ending state to a reason', () => {
    const reasons = ['COMPLETED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'OUT_OF_MEMORY'].map(
      (state) =>
        deriveLifecycle({ ...running, state: state as JobInfo['state'] }, undefined, 1, now).end_reason,
    );
    expect(reasons).toEqual(['completed', 'failed', 'timeout', 'node_fail', 'preempted', 'out_of_memory']);
    expect(deriveLifecycle(undefined, undefined, 1, now)).toMatchObject({
      phase: 'ended',
      end_reason: 'unknown',
    });
  });
  it('counts a job the scheduler does not list yet as queued for a grace period after its submit', () => {
    expect(deriveLifecycle(undefined, undefined, 1, now, now - 5)).toMatchObject({
      phase: 'queued',
      end_reason: null,
    });
    expect(deriveLifecycle(undefined, undefined, 1, now, now - UNLISTED_GRACE_S - 1)).toMatchObject({
      phase: 'ended',
      end_reason: 'unknown',
    });
  });
  it('knows when a wait target is reached', () => {
    expect(hasReached('starting', 'running')).toBe(true);
    expect(hasReached('ended', 'running')).toBe(false);
    expect(hasReached('degraded', 'serving')).toBe(false);
    expect(hasReached('ended', 'ended')).toBe(true);
  });
});

describe('timeBudget', () => {
  const startedAt = new Date((now - 600) * 1000).toISOString();
  it('counts down from the start time while the job runs', () => {
    const info: JobInfo = { ...running, timeLimit: '01:00:00', startTime: startedAt };
    expect(timeBudget(info, 'serving', now)).toEqual({ time_limit_s: 3600, time_left_s: 3000 });
    expect(timeBudget({ ...info, timeLimit: '1-00:00:00' }, 'starting', now).time_left_s).toBe(86_400 - 600);
  });
  it('has a limit but no time left before the start and after the end', () => {
    const info: JobInfo = { ...running, timeLimit: '30:00', startTime: startedAt };
    expect(timeBudget(info, 'queued', now)).toEqual({ time_limit_s: 1800, time_left_s: null });
    expect(timeBudget(info, 'ended', now).time_left_s).toBeNull();
  });
  it('reads no limit from UNLIMITED or a missing field, and never counts below zero', () => {
    expect(timeBudget({ ...running, timeLimit: 'UNLIMITED', startTime: startedAt }, 'serving', now)).toEqual({
      time_limit_s: null,
      time_left_s: null,
    });
    expect(timeBudget(running, 'serving', now)).toEqual({ time_limit_s: null, time_left_s: null });
    expect(
      timeBudget({ ...running, timeLimit: '00:05:00', startTime: startedAt }, 'degraded', now).time_left_s,
    ).toBe(0);
  });
});
