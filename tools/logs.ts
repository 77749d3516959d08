import { z } from 'zod';
import { SmlError } from '../src/errors.js';
import { defineTool } from './define-tool.js';
import { jobIdField, logFileField } from './fields.js';
import { LogChunkSchema } from './schemas.js';

const DEFAULT_TAIL_LINES = 100;
const MAX_READ_BYTES = 512 * 1024;

const input = z.object({
  job_id: jobIdField('The job whose log to read'),
  file: logFileField().optional(),
  tail_lines: z
    .number()
    .int()
    .min(1)
    .max(5000)
    .optional()
    .describe(`Return only the last N lines (default ${DEFAULT_TAIL_LINES} when no cursor is given)`),
  cursor: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'Byte offset to read from: pass the next_cursor of the previous call to get only new output (follow a log). 0 reads from the start. Not together with tail_lines',
    ),
  max_bytes: z
    .number()
    .int()
    .min(1)
    .max(MAX_READ_BYTES)
    .optional()
    .describe(
      `Largest chunk to return (default and maximum ${MAX_READ_BYTES}); has_more tells if there is more`,
    ),
});

const output = LogChunkSchema.extend({
  files: z.array(z.string()).describe('Every log file this job has or will have'),
});

export const logsTool = defineTool({
  name: 'logs',
  title: 'Read job logs',
  description:
    "Read a log file of a job: the job script's log.out/log.err, each replica's engine output replica_<r>.out/.err (model loading, CUDA and NCCL errors show up there), or the router's. Use tail_lines for the latest lines, or cursor to follow a log incrementally: pass back next_cursor to get only what was written since. is_missing means the process has not started writing yet. To be told when a log grows, subscribe to the resource sml://jobs/{id}/logs/{file}.",
  kind: 'read',
  touchesCluster: true,
  input,
  output,
  mirrorsJson: false,
  async run(args, { deps, extra }) {
    if (args.tail_lines !== undefined && args.cursor !== undefined) {
      throw new SmlError('INVALID_ARGUMENT', 'Pass either tail_lines or cursor, not both.', {
        hint: 'Use tail_lines for the latest lines, cursor (a previous next_cursor) to follow a log.',
      });
    }
    const file = args.file ?? 'log.out';
    const [chunk, files] = await Promise.all([
      deps.jobs.readLog(args.job_id, file, {
        cursor: args.cursor,
        tailLines: args.cursor === undefined ? (args.tail_lines ?? DEFAULT_TAIL_LINES) : undefined,
        maxBytes: args.max_bytes ?? MAX_READ_BYTES,
        signal: extra.signal,
      }),
      deps.jobs.listLogFiles(args.job_id),
    ]);
    const header = chunk.is_missing
      ? `${file} of job ${args.job_id} does not exist yet (its process has not started). Files: ${files.join(', ')}.`
      : `${file} of job ${args.job_id}: ${chunk.size} bytes; next_cursor=${chunk.next_cursor}${chunk.has_more ? ' (more available: call again with this cursor)' : ''}.`;
    return { structured: { ...chunk, files }, text: chunk.text ? `${header}\n${chunk.text}` : header };
  },
});
