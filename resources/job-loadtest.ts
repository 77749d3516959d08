import { ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SmlError } from '../src/errors.js';
import type { ServerDeps } from '../src/services.js';
import { completeJobId, defineResource, guard, json, variable } from './define-resource.js';
import { LOADTEST_TEMPLATE, loadtestUri } from './uris.js';

export const jobLoadtestResource = defineResource({
  name: 'job-loadtest',
  uri: LOADTEST_TEMPLATE,
  title: 'Load test results',
  description:
    'One load test of a job as JSON (what the loadtest tool returns): per step requests/s, output tokens/s, TTFT, inter-token and end-to-end latency at p50/p90/p99, errors by kind, engine counters before and after, saturation point and recommendation.',
  mimeType: 'application/json',
  isSubscribable: false,
  register(mcp, deps) {
    mcp.registerResource(
      this.name,
      loadtestTemplate(deps, LOADTEST_TEMPLATE, loadtestUri, this.mimeType),
      { title: this.title, description: this.description, mimeType: this.mimeType },
      (uri, variables, extra) =>
        guard(deps, uri.href, async () => {
          const runId = await runOfJob(deps, variable(variables.id), variable(variables.run));
          return json(
            uri.href,
            await deps.loadtests.get(runId, { signal: extra.signal }),
            deps.config.redact,
          );
        }),
    );
  },
});

/** A per-run template: lists the newest runs (`uriOf` gives each one's URI), completes job and run ids. */
export function loadtestTemplate(
  deps: ServerDeps,
  template: string,
  uriOf: (jobId: string, runId: string) => string,
  mimeType: string,
): ResourceTemplate {
  return new ResourceTemplate(template, {
    list: async () => ({
      resources: (await deps.loadtests.list()).slice(0, 20).map((r) => ({
        uri: uriOf(r.job_id, r.run_id),
        name: `load test ${r.run_id} (${r.scenario}) of job ${r.job_id}`,
        mimeType,
      })),
    }),
    complete: {
      id: (value) => completeJobId(deps, value),
      run: async (value, context) => completeRun(deps, value, context?.arguments?.id),
    },
  });
}

/** The run id when it belongs to the job of the URI; NOT_FOUND otherwise. */
export async function runOfJob(deps: ServerDeps, jobId: string, runId: string): Promise<string> {
  const runs = await deps.loadtests.list(jobId);
  if (!runs.some((r) => r.run_id === runId)) {
    throw new SmlError('NOT_FOUND', `Job ${jobId} has no load test ${runId}.`, {
      hint: 'List resources (or call loadtest) to see the load tests recorded here.',
    });
  }
  return runId;
}

async function completeRun(deps: ServerDeps, prefix: string, jobId?: string): Promise<string[]> {
  try {
    return (await deps.loadtests.list(jobId)).map((r) => r.run_id).filter((id) => id.startsWith(prefix));
  } catch {
    return [];
  }
}
