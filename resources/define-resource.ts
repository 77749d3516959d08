import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Redactor } from '../src/config/secrets.js';
import { type ErrorCode as ErrorCodeName, errorText, SmlError, toSmlError } from '../src/errors.js';
import { isUnknownJob } from '../src/jobs/lifecycle.js';
import { logger } from '../src/log.js';
import type { ServerDeps } from '../src/services.js';

/**
 * One module per resource (a fixed URI or a URI template): its metadata for the README and
 * a `register` that wires list, completion and read callbacks.
 */
export interface ResourceDefinition {
  name: string;
  /** The URI or URI template, e.g. sml://jobs/{id}/logs/{file}. */
  uri: string;
  title: string;
  description: string;
  mimeType: string;
  isSubscribable: boolean;
  register(mcp: McpServer, deps: ServerDeps): void;
}

export function defineResource(resource: ResourceDefinition): ResourceDefinition {
  return resource;
}

/** How many of the newest jobs resource lists enumerate (completion offers all known ids). */
export const LISTED_JOBS = 10;

/** Failures of the server or the cluster; every other code means the request cannot be served as given. */
const SERVER_SIDE_ERRORS = new Set<ErrorCodeName>([
  'INTERNAL',
  'SCHEDULER_ERROR',
  'SCHEDULER_UNREACHABLE',
  'SUBMIT_FAILED',
  'TIMEOUT',
  'RATE_LIMITED',
]);

/**
 * Errors outside tools (resources, prompts, subscriptions) are JSON-RPC errors: InternalError for
 * failures of the server or the cluster, InvalidParams when the caller (or its configuration) must
 * change something, e.g. NOT_CONFIGURED. The message is `[CODE] message next-step`; `data` carries
 * the code and the next step for clients that act on them.
 */
export function toMcpError(error: unknown, redact: Redactor, uri?: string): McpError {
  if (error instanceof McpError) return error;
  const smlError = toSmlError(error);
  const code = SERVER_SIDE_ERRORS.has(smlError.code) ? ErrorCode.InternalError : ErrorCode.InvalidParams;
  const text = errorText(smlError, redact);
  if (code === ErrorCode.InternalError) logger.warn({ uri, code: smlError.code }, text);
  const hint = smlError.hint === undefined ? {} : { hint: redact(smlError.hint) };
  return new McpError(code, text, { code: smlError.code, ...hint, ...(uri ? { uri } : {}) });
}

/** Run a resource callback, turning its errors into JSON-RPC errors. */
export async function guard<T>(deps: ServerDeps, uri: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw toMcpError(error, deps.config.redact, uri);
  }
}

export function jobNotFound(jobId: string): SmlError {
  return new SmlError('NOT_FOUND', `Job ${jobId} is not known to sml-mcp or to SLURM.`, {
    hint: 'Read sml://jobs (or call status) for your jobs.',
  });
}

/** Throws NOT_FOUND unless the job is recorded here or known to the scheduler. */
export async function assertJobExists(deps: ServerDeps, jobId: string): Promise<void> {
  if ((await deps.jobs.knownJobIds()).includes(jobId)) return;
  const [status] = await deps.jobs.status([jobId]);
  if (isUnknownJob(status)) throw jobNotFound(jobId);
}

/** The `list` of a per-job template: the resources of the most recent jobs, `entriesOf` giving each job's. */
export async function listPerJob(
  deps: ServerDeps,
  entriesOf: (jobId: string) => Promise<{ uri: string; name: string }[]> | { uri: string; name: string }[],
  mimeType: string,
): Promise<{ resources: { uri: string; name: string; mimeType: string }[] }> {
  const jobIds = (await deps.jobs.knownJobIds()).slice(0, LISTED_JOBS);
  const perJob = await Promise.all(jobIds.map(async (id) => await entriesOf(id)));
  return { resources: perJob.flat().map((entry) => ({ ...entry, mimeType })) };
}

export async function completeJobId(deps: ServerDeps, prefix: string): Promise<string[]> {
  try {
    return (await deps.jobs.knownJobIds()).filter((id) => id.startsWith(prefix));
  } catch {
    return [];
  }
}

export function variable(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

export function json(uri: string, value: unknown, redact: Redactor) {
  return { contents: [{ uri, mimeType: 'application/json', text: redact(JSON.stringify(value, null, 2)) }] };
}
