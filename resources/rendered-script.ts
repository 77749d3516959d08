import { ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SmlError } from '../src/errors.js';
import { RENDER_TEMPLATE, renderUri } from '../src/jobs/render-cache.js';
import { defineResource, guard, variable } from './define-resource.js';

const SHELL_MIME = 'text/x-shellscript';

export const renderedScriptResource = defineResource({
  name: 'rendered-script',
  uri: RENDER_TEMPLATE,
  title: 'Dry-run script',
  description:
    'A script rendered by launch with dry_run, not submitted: master.sh (the batch script) and the files it extracts. The dry run links each one; kept for an hour (render again after that).',
  mimeType: SHELL_MIME,
  isSubscribable: false,
  register(mcp, deps) {
    mcp.registerResource(
      this.name,
      new ResourceTemplate(RENDER_TEMPLATE, {
        list: () => ({
          resources: deps.renders.list().flatMap((set) =>
            Object.keys(set.scripts).map((script) => ({
              uri: renderUri(set.renderId, script),
              name: `dry run ${set.renderId} ${script}`,
              mimeType: SHELL_MIME,
            })),
          ),
        }),
        complete: {
          render_id: (value) =>
            deps.renders
              .list()
              .map((set) => set.renderId)
              .filter((id) => id.startsWith(value)),
          script: (value, context) => {
            const set = deps.renders.get(context?.arguments?.render_id ?? '');
            return Object.keys(set?.scripts ?? {}).filter((name) => name.startsWith(value));
          },
        },
      }),
      { title: this.title, description: this.description, mimeType: this.mimeType },
      (uri, variables) =>
        guard(deps, uri.href, async () => {
          const renderId = variable(variables.render_id);
          const name = variable(variables.script);
          const set = deps.renders.get(renderId);
          if (!set) {
            throw new SmlError('NOT_FOUND', `No dry run ${renderId} is kept (they expire after an hour).`, {
              hint: 'Call launch with dry_run again; its answer links the new scripts.',
            });
          }
          const text = set.scripts[name];
          if (text === undefined) {
            throw new SmlError('NOT_FOUND', `Dry run ${renderId} has no script named ${name}.`, {
              hint: `Its scripts: ${Object.keys(set.scripts).join(', ')}.`,
            });
          }
          return { contents: [{ uri: uri.href, mimeType: SHELL_MIME, text: deps.config.redact(text) }] };
        }),
    );
  },
});
