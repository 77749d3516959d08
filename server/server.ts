import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  ErrorCode,
  McpError,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { registerPrompts } from '../prompts/index.js';
import { toMcpError } from '../resources/define-resource.js';
import { registerResources } from '../resources/index.js';
import { logger } from '../src/log.js';
import type { ServerDeps } from '../src/services.js';
import { PACKAGE_VERSION } from '../src/version.js';
import { registerTools } from '../tools/index.js';
import { ResourceWatcher, watchHubFor } from './watch.js';

export const SERVER_NAME = 'sml-mcp';
const DEFAULT_WATCH_INTERVAL_MS = 2000;

/** What an agent reads once at connection: the workflow and the rules of the road. */
export function serverInstructions(deps: ServerDeps): string {
  const config = deps.config;
  const where = config.defaults.system
    ? `Launches go to system "${config.defaults.system}"${config.defaults.partition ? `, partition ${config.defaults.partition}` : ''} unless they name another.`
    : 'No system is configured yet: size_model, list_models, list_systems and launch with dry_run work; to launch for real, pass `system` (see list_systems) or ask the user to set SML_SYSTEM (or "defaults.system" in ' +
      `${config.configPath}).`;
  return [
    'sml-mcp deploys LLM inference servers (sglang or vLLM, one or more replicas, multi-node) as SLURM jobs and reports on them.',
    where,
    'Workflow: list_models (catalog recipes) or any model path → size_model (GPUs, nodes and parallel layout a model needs) → launch (returns at once with job_ids, served_model_name and resource URIs; use dry_run to review the scripts, idempotency_key to make retries safe, layout "auto" to size automatically) → status with wait_until "serving" in rounds of ≤ 50 s until serving → hand the endpoint and served_model_name to the user → cancel when done (confirm with the user first).',
    'When a job fails or stalls, status gives a failure_hint; read replica_<r>.err with logs (tail_lines, or cursor to follow) or use the diagnose_job prompt.',
    'Resources: sml://jobs, sml://jobs/{id} (status), sml://jobs/{id}/logs/{file} (subscribe to be told when it grows), sml://jobs/{id}/sbatch/{script}, sml://jobs/{id}/metrics, sml://catalog, sml://systems.',
    'Errors come back as tool results starting with [CODE] and say what to do next. Never cancel a job the user did not ask to stop.',
  ].join('\n');
}

/**
 * One McpServer per connection, built from shared services. Subscriptions and their watcher
 * belong to this session and stop when its transport closes.
 */
export function createMcpServer(deps: ServerDeps): McpServer {
  const mcp = new McpServer(
    { name: SERVER_NAME, version: deps.version ?? PACKAGE_VERSION, title: 'SLURM model launcher' },
    {
      capabilities: { logging: {}, resources: { subscribe: true } },
      instructions: serverInstructions(deps),
    },
  );
  registerTools(mcp, deps);
  registerResources(mcp, deps);
  registerPrompts(mcp, deps);

  const hub = watchHubFor(deps.jobs, deps.watchIntervalMs ?? DEFAULT_WATCH_INTERVAL_MS, deps.config.redact);
  const watcher = new ResourceWatcher(hub, async (uri, change) => {
    if (!mcp.isConnected()) return;
    await mcp.server.sendResourceUpdated({ uri });
    // Also a log line for people watching the client's log (filtered by the session's log level).
    if (change) await mcp.sendLoggingMessage({ level: 'info', logger: SERVER_NAME, data: change });
  });
  mcp.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    const { uri } = request.params;
    let isWatchable: boolean;
    try {
      isWatchable = await watcher.subscribe(uri);
    } catch (error) {
      throw toMcpError(error, deps.config.redact, uri);
    }
    if (!isWatchable) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `${uri} cannot be subscribed to; subscribe to sml://jobs/{id} or sml://jobs/{id}/logs/{file}`,
        { uri },
      );
    }
    return {};
  });
  mcp.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    watcher.unsubscribe(request.params.uri);
    return {};
  });
  const previousOnClose = mcp.server.onclose;
  mcp.server.onclose = () => {
    watcher.close();
    logger.debug('MCP session closed');
    previousOnClose?.();
  };
  return mcp;
}
