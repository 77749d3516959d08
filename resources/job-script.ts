import { ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SmlError } from '../src/errors.js';
import { completeJobId, defineResource, guard, listPerJob, variable } from './define-resource.js';
import { SCRIPT_TEMPLATE, scriptUri } from './uris.js';

const SHELL_MIME = 'text/x-shellscript';

export const jobScriptResource = defineResource({
  name: 'job-script',
  uri: SCRIPT_TEMPLATE,
  title: 'Rendered job script',
  description:
    'A script sml-mcp rendered and submitted for a job: master.sh (the batch script) and the rank scripts it extracts (head.sh, follower.sh, router.sh). Known for jobs launched from this machine.',
  mimeType: SHELL_MIME,
  isSubscribable: false,
  register(mcp, deps) {
    mcp.registerResource(
      this.name,
      new ResourceTemplate(SCRIPT_TEMPLATE, {
        list: () =>
          listPerJob(
            deps,
            async (id) =>
              Object.keys(await deps.jobs.scripts(id).catch(() => ({}))).map((script) => ({
                uri: scriptUri(id, script),
                name: `job ${id} ${script}`,
              })),
            SHELL_MIME,
          ),
        complete: {
          id: (value) => completeJobId(deps, value),
          script: async (value, context) => {
            const jobId = context?.arguments?.id;
            const names = jobId
              ? Object.keys(await deps.jobs.scripts(jobId).catch(() => ({})))
              : ['master.sh'];
            return names.filter((name) => name.startsWith(value));
          },
        },
      }),
      { title: this.title, description: this.description, mimeType: this.mimeType },
      (uri, variables) =>
        guard(deps, uri.href, async () => {
          const jobId = variable(variables.id);
          const name = variable(variables.script);
          const scripts = await deps.jobs.scripts(jobId);
          // Own properties only: `constructor` or `toString` is no script of the job.
          const text = Object.hasOwn(scripts, name) ? scripts[name] : undefined;
          if (typeof text !== 'string') {
            throw new SmlError('NOT_FOUND', `Job ${jobId} has no script named ${name}.`, {
              hint: `Its scripts: ${Object.keys(scripts).join(', ')}.`,
            });
          }
          return { contents: [{ uri: uri.href, mimeType: SHELL_MIME, text: deps.config.redact(text) }] };
        }),
    );
  },
});
