import { BlockList, isIP } from 'node:net';
import { parseDuration } from '../domain/duration.js';
import { ENDED_STATES, type JobInfo, type SlurmState } from '../scheduler/scheduler.js';
import type { EndReason, JobStatusView, LifecyclePhase, ReplicaHealth } from './types.js';

/** A report older than this no longer proves the replicas are up (SML's TUI uses the same 90 s). */
export const HEALTH_REPORT_STALE_S = 90;

/**
 * How long a job submitted moments ago may be missing from the scheduler's answers before it counts
 * as gone: FirecREST answers 404 for a short while after a submit (pyfirecrest waits 20 s) and can
 * show SLURM's nameless placeholder row while the job starts.
 */
export const UNLISTED_GRACE_S = 60;

export interface HealthReport {
  checked_at: number;
  replicas: ReplicaHealth[];
  /** The router in front of the replicas, when the job has one. */
  router?: { health: ReplicaHealth['health']; last_seen: number | null };
}

const HEALTH_VALUES = new Set(['HEALTHY', 'NOT_RESPONDING', 'ERROR', 'NOT_DEPLOYED']);

/**
 * Addresses no compute node serves from: loopback, link-local (cloud metadata), multicast,
 * unspecified. BlockList checks IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against the IPv4 rules.
 */
const NOT_NODE_ADDRESSES = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['224.0.0.0', 3],
] as const)
  NOT_NODE_ADDRESSES.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_NODE_ADDRESSES.addSubnet(network, prefix, 'ipv6');

/** Whether a replica address from the job's report may be contacted: an IP literal of a compute node. */
export function isNodeAddress(ip: string): boolean {
  const family = isIP(ip);
  return family !== 0 && !NOT_NODE_ADDRESSES.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

function shortHost(host: string): string {
  return host.split('.')[0]!.toLowerCase();
}

/**
 * Parse the in-job checker's replica_health.json. Unknown health values count as ERROR and a
 * malformed report as no report, as SML's client does. The report is a file the job writes, so
 * an address is kept only when it is an IP literal of a node (and, when SLURM named the job's
 * nodes, its host is one of them); the others lose their address and get no endpoint.
 */
export function parseHealthReport(
  text: string,
  defaultPort: number,
  jobNodes: readonly string[] = [],
): HealthReport | undefined {
  const nodes = new Set(jobNodes.map(shortHost));
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object' || !Array.isArray((raw as { replicas?: unknown }).replicas))
    return undefined;
  const report = raw as { checked_at?: unknown; replicas: unknown[] };
  const replicas = report.replicas.flatMap((entry, position): ReplicaHealth[] => {
    if (!entry || typeof entry !== 'object') return [];
    const r = entry as Record<string, unknown>;
    const health = healthOf(r.health);
    const host = typeof r.node_host === 'string' ? r.node_host : null;
    const isOnJobNode = nodes.size === 0 || (host !== null && nodes.has(shortHost(host)));
    const ip = typeof r.node_ip === 'string' && isNodeAddress(r.node_ip) && isOnJobNode ? r.node_ip : null;
    const port = r.port;
    return [
      {
        replica: typeof r.replica === 'number' ? r.replica : position,
        node_host: host,
        node_ip: ip,
        port:
          typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : defaultPort,
        health,
        last_seen: typeof r.last_seen === 'number' ? r.last_seen : null,
        peer_id: typeof r.peer_id === 'string' ? r.peer_id : null,
      },
    ];
  });
  const rawRouter = (raw as { router?: unknown }).router;
  const router =
    rawRouter && typeof rawRouter === 'object'
      ? {
          health: healthOf((rawRouter as Record<string, unknown>).health),
          last_seen:
            typeof (rawRouter as Record<string, unknown>).last_seen === 'number'
              ? ((rawRouter as Record<string, unknown>).last_seen as number)
              : null,
        }
      : undefined;
  return {
    checked_at: typeof report.checked_at === 'number' ? report.checked_at : 0,
    replicas,
    ...(router ? { router } : {}),
  };
}

function healthOf(value: unknown): ReplicaHealth['health'] {
  return typeof value === 'string' && HEALTH_VALUES.has(value) ? (value as ReplicaHealth['health']) : 'ERROR';
}

const QUEUED_STATES: ReadonlySet<SlurmState> = new Set([
  'PENDING',
  'CONFIGURING',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'SUSPENDED',
  'RESV_DEL_HOLD',
]);

const END_REASONS: Partial<Record<SlurmState, EndReason>> = {
  COMPLETED: 'completed',
  CANCELLED: 'cancelled',
  FAILED: 'failed',
  TIMEOUT: 'timeout',
  DEADLINE: 'timeout',
  NODE_FAIL: 'node_fail',
  BOOT_FAIL: 'node_fail',
  PREEMPTED: 'preempted',
  OUT_OF_MEMORY: 'out_of_memory',
};

export interface Lifecycle {
  phase: LifecyclePhase;
  end_reason: EndReason | null;
  replicas_healthy: number;
  health_report_age_s: number | null;
}

/**
 * queued → starting → serving → degraded → ended(reason), from the SLURM state and the health
 * report. `serving` needs every expected replica HEALTHY in a fresh report; `degraded` means some
 * replica that was serving stopped answering (or the report went stale while the job runs).
 */
export function deriveLifecycle(
  info: JobInfo | undefined,
  report: HealthReport | undefined,
  replicasExpected: number,
  nowS: number = Date.now() / 1000,
  submittedAtS?: number,
): Lifecycle {
  const age = report && report.checked_at > 0 ? Math.max(0, Math.round(nowS - report.checked_at)) : null;
  const healthy = report ? report.replicas.filter((r) => r.health === 'HEALTHY').length : 0;
  const base = { replicas_healthy: healthy, health_report_age_s: age };
  if (!info) {
    const isJustSubmitted = submittedAtS !== undefined && nowS - submittedAtS < UNLISTED_GRACE_S;
    if (isJustSubmitted) return { ...base, replicas_healthy: 0, phase: 'queued', end_reason: null };
    // An ended job serves nothing, whatever its last health report said.
    return { ...base, replicas_healthy: 0, phase: 'ended', end_reason: 'unknown' };
  }
  if (ENDED_STATES.has(info.state) || info.state === 'COMPLETING') {
    const reason =
      END_REASONS[info.state] ?? (info.exitCode && info.exitCode !== '0:0' ? 'failed' : 'completed');
    return { ...base, replicas_healthy: 0, phase: 'ended', end_reason: reason };
  }
  if (QUEUED_STATES.has(info.state)) return { ...base, phase: 'queued', end_reason: null };
  if (!report) return { ...base, phase: 'starting', end_reason: null };
  const isStale = age !== null && age > HEALTH_REPORT_STALE_S;
  const wasEverHealthy = report.replicas.some((r) => r.last_seen !== null);
  // Clients use the router's endpoint: behind one, serving needs it to answer too.
  const router = report.router;
  const isRouterUp = router === undefined || router.health === 'HEALTHY';
  if (!isStale && isRouterUp && healthy >= replicasExpected && replicasExpected > 0)
    return { ...base, phase: 'serving', end_reason: null };
  const hasLost = [...report.replicas, ...(router ? [router] : [])].some(
    (r) => r.last_seen !== null && r.health !== 'HEALTHY',
  );
  if (wasEverHealthy && (isStale || hasLost)) {
    return { ...base, phase: 'degraded', end_reason: null };
  }
  return { ...base, phase: 'starting', end_reason: null };
}

/** Whether a job in `phase` is at the wait target now (a job that ended first never reaches running or serving). */
export function hasReached(phase: LifecyclePhase, target: 'running' | 'serving' | 'ended'): boolean {
  switch (target) {
    case 'running':
      return phase === 'starting' || phase === 'serving' || phase === 'degraded';
    case 'serving':
      return phase === 'serving';
    case 'ended':
      return phase === 'ended';
  }
}

/** A status the service made up for an id that neither the local record nor SLURM knows. */
export function isUnknownJob(status: JobStatusView | undefined): boolean {
  return !status || (status.slurm_state === 'UNKNOWN' && !status.is_recorded_locally);
}

/**
 * The job's time limit and, while it runs, the seconds left before SLURM ends it; null where
 * SLURM gives no finite limit (UNLIMITED) or no start time.
 */
export function timeBudget(
  info: JobInfo | undefined,
  phase: LifecyclePhase,
  nowS: number = Date.now() / 1000,
): { time_limit_s: number | null; time_left_s: number | null } {
  let limitS: number | null = null;
  try {
    if (info?.timeLimit) limitS = parseDuration(info.timeLimit);
  } catch {
    limitS = null;
  }
  const startedS = info?.startTime ? Date.parse(info.startTime) / 1000 : Number.NaN;
  const isRunning = phase === 'starting' || phase === 'serving' || phase === 'degraded';
  const leftS =
    isRunning && limitS !== null && Number.isFinite(startedS)
      ? Math.max(0, Math.round(startedS + limitS - nowS))
      : null;
  return { time_limit_s: limitS, time_left_s: leftS };
}
