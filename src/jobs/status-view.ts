import type { launchLayoutOf } from '../domain/launch-spec.js';
import type { SystemProfile } from '../domain/system.js';
import { SmlError } from '../errors.js';
import type { JobInfo, Scheduler } from '../scheduler/scheduler.js';
import { type HealthReport, parseHealthReport } from './lifecycle.js';
import type { Endpoint, JobStatusView } from './types.js';

/** Pieces of a job's status view: its health report, endpoints, SLURM reason and progress line. */

/** What the service needs to know of a launch to read its files and endpoints (ports, router, log files). */
export type LaunchLayout = ReturnType<typeof launchLayoutOf>;

/** The in-job checker's replica_health.json, each replica on its port of the layout; undefined before the first report. */
export async function readHealthReport(
  scheduler: Scheduler,
  logDir: string,
  layout: LaunchLayout | undefined,
  jobNodes: readonly string[] | undefined,
  signal?: AbortSignal,
): Promise<HealthReport | undefined> {
  try {
    const chunk = await scheduler.readFile(`${logDir}/replica_health.json`, 0, 1024 * 1024, { signal });
    const report = parseHealthReport(chunk.data.toString('utf8'), layout?.replicaPorts[0] ?? 8080, jobNodes);
    if (report && layout) {
      for (const replica of report.replicas)
        replica.port = layout.replicaPorts[replica.replica] ?? replica.port;
    }
    return report;
  } catch (error) {
    if (error instanceof SmlError && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

/** An IP literal as the host of a URL (IPv6 in brackets). */
function urlHost(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

export function endpointsOf(
  report: HealthReport | undefined,
  layout: LaunchLayout | undefined,
  system: SystemProfile,
): Endpoint[] {
  const endpoints: Endpoint[] = [];
  for (const replica of report?.replicas ?? []) {
    if (replica.node_ip)
      endpoints.push({
        kind: 'replica',
        replica: replica.replica,
        url: `http://${urlHost(replica.node_ip)}:${replica.port}/v1`,
      });
  }
  const firstIp = report?.replicas[0]?.node_ip;
  if (layout?.routerPort && firstIp)
    endpoints.push({ kind: 'router', url: `http://${urlHost(firstIp)}:${layout.routerPort}/v1` });
  if (layout?.isOpentelaEnabled && system.gatewayUrl)
    endpoints.push({ kind: 'gateway', url: `${system.gatewayUrl}/v1` });
  return endpoints;
}

/** Why SLURM holds a job in the queue: once the job left the queue, such a reason is stale. */
const PENDING_REASON =
  /^(Priority|Resources|Dependency|BeginTime|ReqNodeNotAvail|JobHeld|Reservation|Partition|Assoc|QOS|Licenses|NodeDown|BadConstraints|Prolog|Requeue|Cleaning)/i;

export function currentReason(info: JobInfo | undefined, phase: JobStatusView['phase']): string | null {
  const reason = info?.reason;
  if (!reason || reason === 'None') return null;
  return phase === 'queued' || !PENDING_REASON.test(reason) ? reason : null;
}

export function describeProgress(status: JobStatusView): string {
  const health =
    status.replicas_expected > 0
      ? ` (${status.replicas_healthy}/${status.replicas_expected} replicas healthy)`
      : '';
  const ending = status.phase === 'ended' ? `(${status.end_reason})` : '';
  return `job ${status.job_id}: ${status.phase}${ending}${health}`;
}
