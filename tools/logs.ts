import { z } from 'zod';
import { SmlError } from '../src/errors.js';
import { LogChunkView } from '../src/jobs/types.js';
import { defineTool } from './define-tool.js';
import { jobIdField, logFileField } from './fields.js';

const DEFAULT_TAIL_LINES = 100;
const MAX_READ_BYTES = 512 * 1024;

const input = z.strictObject({
  job_id: jobIdField('The job'),
  file: logFileField().optional(),
  tail_lines: z
    .number()
    .int()
    .min(1)
    .max(5000)
    .optional()
    .describe(`Last N lines (default ${DEFAULT_TAIL_LINES} without cursor)`),
  cursor: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Byte offset: the last next_cursor (to follow), 0 = start. Not with tail_lines'),
  max_bytes: z
    .number()
    .int()
    .min(1)
    .max(MAX_READ_BYTES)
    .optional()
    .describe(`Largest chunk (default and maximum ${MAX_READ_BYTES})`),
});

const output = LogChunkView.extend({
  files: z.array(z.string()).describe("The job's log files, present or to come"),
});

export const logsTool = defineTool({
  name: 'logs',
  title: 'Read job logs',
  description:
    "Read a job's log: its script's log.out/.err, each engine's replica_<r>.out/.err, router.out/.err. tail_lines for the end; cursor to follow (pass back next_cursor). Subscribe to sml://jobs/{id}/logs/{file} to hear it grow.",
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
