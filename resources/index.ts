import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ServerDeps } from '../src/services.js';
import { catalogResource } from './catalog.js';
import type { ResourceDefinition } from './define-resource.js';
import { jobResource } from './job.js';
import { jobLoadtestResource } from './job-loadtest.js';
import { jobLoadtestChartResource } from './job-loadtest-chart.js';
import { jobLogResource } from './job-log.js';
import { jobMetricsResource } from './job-metrics.js';
import { jobScriptResource } from './job-script.js';
import { jobsResource } from './jobs.js';
import { liveViewResource } from './live-view.js';
import { renderedScriptResource } from './rendered-script.js';
import { systemsResource } from './systems.js';

/** Every resource; templates resolve in this order (none of them overlap). */
export const allResources: readonly ResourceDefinition[] = [
  jobsResource,
  jobResource,
  jobLogResource,
  jobScriptResource,
  jobMetricsResource,
  renderedScriptResource,
  jobLoadtestResource,
  jobLoadtestChartResource,
  catalogResource,
  systemsResource,
  liveViewResource,
];

export function registerResources(mcp: McpServer, deps: ServerDeps): void {
  for (const resource of allResources) resource.register(mcp, deps);
}
