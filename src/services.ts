import type { Catalog } from './catalog/catalog.js';
import type { ResolvedConfig } from './config/load.js';
import type { SystemProfile } from './domain/system.js';
import type { JobServiceApi } from './jobs/api.js';
import type { RenderCache } from './jobs/render-cache.js';
import type { LoadTestService } from './loadtest/service.js';
import type { Scheduler } from './scheduler/scheduler.js';
import type { SizeModelInput, SizeModelResult } from './sizing/schema.js';

/**
 * What one MCP server (one per connection) is built from: the services tools/, resources/ and
 * prompts/ call, assembled by server/build-deps.ts. Long-lived state (jobs, watchers of the
 * cluster) lives in these shared services, never in the McpServer.
 */
export interface ServerDeps {
  jobs: JobServiceApi;
  /** Load tests of deployments (src/loadtest). */
  loadtests: LoadTestApi;
  /** The shipped catalog merged with the config file's entries. */
  catalog: Catalog;
  systems: SystemsApi;
  sizer: SizerApi;
  config: ResolvedConfig;
  /** Scripts of recent dry runs (sml://renders/...), shared by every session. */
  renders: RenderCache;
  /** How often subscribed resources (growing logs, job states) are checked, in ms; default 2000. */
  watchIntervalMs?: number;
  /** Server version reported in initialize; default the package version. */
  version?: string;
}

export type LoadTestApi = Pick<LoadTestService, 'start' | 'get' | 'wait' | 'list' | 'chart'>;

export interface SystemsApi {
  /** Built-in and configured system profiles. */
  profiles(): readonly SystemProfile[];
  /** A scheduler for the system; throws SmlError NOT_CONFIGURED when its credentials are missing. */
  schedulerFor(system: SystemProfile): Scheduler;
}

export interface SizerApi {
  /** The sizing planner (src/sizing): `size_model`, `sml-mcp size` and launch `layout: "auto"` use it. */
  size(input: SizeModelInput, options?: { signal?: AbortSignal }): Promise<SizeModelResult>;
}
