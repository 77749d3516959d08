import { defineResource, guard, json } from './define-resource.js';
import { JOBS_URI } from './uris.js';

export const jobsResource = defineResource({
  name: 'jobs',
  uri: JOBS_URI,
  title: 'My jobs',
  description:
    'Every deployment sml-mcp launched for you that SLURM still knows (or that is recorded here), with phase, replica health and endpoints, as JSON.',
  mimeType: 'application/json',
  isSubscribable: false,
  register(mcp, deps) {
    mcp.registerResource(
      this.name,
      JOBS_URI,
      { title: this.title, description: this.description, mimeType: this.mimeType },
      (uri, extra) =>
        guard(deps, uri.href, async () =>
          json(
            uri.href,
            { jobs: await deps.jobs.status(undefined, { signal: extra.signal }) },
            deps.config.redact,
          ),
        ),
    );
  },
});
