import { JOB_ID_PATTERN, LOG_FILE_PATTERN, patternBody } from '../src/domain/ids.js';

/**
 * The sml:// resource URIs, built and parsed in one place (tools link to them, the watcher
 * parses subscriptions, resources register their templates from them).
 */

export const JOBS_URI = 'sml://jobs';
export const CATALOG_URI = 'sml://catalog';
export const SYSTEMS_URI = 'sml://systems';
/** The live view (an MCP App) that status and launch point hosts to. */
export const LIVE_VIEW_URI = 'ui://sml-mcp/live-view.html';

export const JOB_TEMPLATE = 'sml://jobs/{id}';
export const LOG_TEMPLATE = 'sml://jobs/{id}/logs/{file}';
export const SCRIPT_TEMPLATE = 'sml://jobs/{id}/sbatch/{script}';
export const METRICS_TEMPLATE = 'sml://jobs/{id}/metrics';
export const LOADTEST_TEMPLATE = 'sml://jobs/{id}/loadtests/{run}';
export const LOADTEST_CHART_TEMPLATE = 'sml://jobs/{id}/loadtests/{run}/chart.svg';

export function jobUri(jobId: string): string {
  return `sml://jobs/${jobId}`;
}

export function logUri(jobId: string, file: string): string {
  return `sml://jobs/${jobId}/logs/${file}`;
}

export function scriptUri(jobId: string, script: string): string {
  return `sml://jobs/${jobId}/sbatch/${script}`;
}

export function metricsUri(jobId: string): string {
  return `sml://jobs/${jobId}/metrics`;
}

export function loadtestUri(jobId: string, runId: string): string {
  return `sml://jobs/${jobId}/loadtests/${runId}`;
}

export function loadtestChartUri(jobId: string, runId: string): string {
  return `${loadtestUri(jobId, runId)}/chart.svg`;
}

export type ParsedJobUri =
  | { kind: 'job'; jobId: string }
  | { kind: 'log'; jobId: string; file: string }
  | { kind: 'script'; jobId: string; script: string }
  | { kind: 'metrics'; jobId: string };

const JOB_URI = new RegExp(
  `^sml://jobs/(${patternBody(JOB_ID_PATTERN)})(?:/(logs|sbatch)/(${patternBody(LOG_FILE_PATTERN)})|/(metrics))?$`,
);

export function parseJobUri(uri: string): ParsedJobUri | undefined {
  const match = JOB_URI.exec(uri);
  if (!match) return undefined;
  const [, jobId, section, name, metrics] = match as unknown as [string, string, string?, string?, string?];
  if (metrics) return { kind: 'metrics', jobId };
  if (section === 'logs') return { kind: 'log', jobId, file: name! };
  if (section === 'sbatch') return { kind: 'script', jobId, script: name! };
  return { kind: 'job', jobId };
}
