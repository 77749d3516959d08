import { ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  assertJobExists,
  completeJobId,
  defineResource,
  guard,
  listPerJob,
  variable,
} from './define-resource.js';
import { LOG_TEMPLATE, logUri } from './uris.js';

const TAIL_LINES = 1000;
const TAIL_BYTES = 256 * 1024;

export const jobLogResource = defineResource({
  name: 'job-log',
  uri: LOG_TEMPLATE,
  title: 'Job log file',
  description:
    'The last lines of one log file of a job (log.out, log.err, replica_<r>.out/.err, router.out/.err). Subscribe to be notified when the file grows; read it incrementally with the logs tool and its cursor.',
  mimeType: 'text/plain',
  isSubscribable: true,
  register(mcp, deps) {
    mcp.registerResource(
      this.name,
      new ResourceTemplate(LOG_TEMPLATE, {
        list: () =>
          listPerJob(
            deps,
            async (id) =>
              (await deps.jobs.listLogFiles(id)).map((file) => ({
                uri: logUri(id, file),
                name: `job ${id} ${file}`,
              })),
            this.mimeType,
          ),
        complete: {
          id: (value) => completeJobId(deps, value),
          file: async (value, context) => {
            const jobId = context?.arguments?.id;
            const files = jobId
              ? await deps.jobs.listLogFiles(jobId).catch(() => [])
              : ['log.out', 'log.err'];
            return files.filter((file) => file.startsWith(value));
          },
        },
      }),
      { title: this.title, description: this.description, mimeType: this.mimeType },
      (uri, variables, extra) =>
        guard(deps, uri.href, async () => {
          const jobId = variable(variables.id);
          await assertJobExists(deps, jobId);
          const chunk = await deps.jobs.readLog(jobId, variable(variables.file), {
            tailLines: TAIL_LINES,
            maxBytes: TAIL_BYTES,
            signal: extra.signal,
          });
          const text = chunk.is_missing ? '' : chunk.text;
          return {
            contents: [{ uri: uri.href, mimeType: 'text/plain', text: deps.config.redact(text) }],
            _meta: { size: chunk.size, next_cursor: chunk.next_cursor, is_missing: chunk.is_missing },
          };
        }),
    );
  },
});
