import { ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { isUnknownJob } from '../src/jobs/lifecycle.js';
import {
  completeJobId,
  defineResource,
  guard,
  jobNotFound,
  json,
  listPerJob,
  variable,
} from './define-resource.js';
import { JOB_TEMPLATE, jobUri } from './uris.js';

export const jobResource = defineResource({
  name: 'job',
  uri: JOB_TEMPLATE,
  title: 'Job status',
  description:
    'Status of one job as JSON: SLURM state, lifecycle phase, nodes, replica health, endpoints, failure hint. Subscribe to be notified when its state changes.',
  mimeType: 'application/json',
  isSubscribable: true,
  register(mcp, deps) {
    mcp.registerResource(
      this.name,
      new ResourceTemplate(JOB_TEMPLATE, {
        list: () => listPerJob(deps, (id) => [{ uri: jobUri(id), name: `job ${id}` }], this.mimeType),
        complete: { id: (value) => completeJobId(deps, value) },
      }),
      { title: this.title, description: this.description, mimeType: this.mimeType },
      (uri, variables, extra) =>
        guard(deps, uri.href, async () => {
          const jobId = variable(variables.id);
          const [status] = await deps.jobs.status([jobId], { signal: extra.signal });
          if (isUnknownJob(status)) throw jobNotFound(jobId);
          return json(uri.href, status, deps.config.redact);
        }),
    );
  },
});
