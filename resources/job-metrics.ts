import { ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  assertJobExists,
  completeJobId,
  defineResource,
  guard,
  json,
  listPerJob,
  variable,
} from './define-resource.js';
import { METRICS_TEMPLATE, metricsUri } from './uris.js';

export const jobMetricsResource = defineResource({
  name: 'job-metrics',
  uri: METRICS_TEMPLATE,
  title: 'Job metrics snapshot',
  description:
    "A snapshot of a serving job's engines as JSON, parsed from each replica's Prometheus /metrics: requests running and queued, token counters and throughput, KV-cache usage, time-to-first-token quantiles, plus the replica health report.",
  mimeType: 'application/json',
  isSubscribable: false,
  register(mcp, deps) {
    mcp.registerResource(
      this.name,
      new ResourceTemplate(METRICS_TEMPLATE, {
        list: () =>
          listPerJob(deps, (id) => [{ uri: metricsUri(id), name: `job ${id} metrics` }], this.mimeType),
        complete: { id: (value) => completeJobId(deps, value) },
      }),
      { title: this.title, description: this.description, mimeType: this.mimeType },
      (uri, variables, extra) =>
        guard(deps, uri.href, async () => {
          const jobId = variable(variables.id);
          await assertJobExists(deps, jobId);
          return json(uri.href, await deps.jobs.metrics(jobId, { signal: extra.signal }), deps.config.redact);
        }),
    );
  },
});
