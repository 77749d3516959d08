import type { Scheduler } from '../scheduler/scheduler.js';
import { decodeUtf8Prefix } from '../text.js';
import type { LogText } from './diagnosis.js';
import type { LaunchLayout } from './status-view.js';
import type { LogChunkView } from './types.js';

/** Reading job logs through the Scheduler by byte range: a chunk from a cursor, a tail, error tails for diagnosis. */

const DEFAULT_LOG_READ_BYTES = 256 * 1024;
const MAX_LOG_READ_BYTES = 4 * 1024 * 1024;
const DIAGNOSIS_TAIL_BYTES = 64 * 1024;

/** A chunk of `path` from `options.cursor`, or its last `tailLines` lines; a missing file is `is_missing`, not an error. */
export async function readLogChunk(
  scheduler: Scheduler,
  path: string,
  options: { cursor?: number; tailLines?: number; maxBytes?: number; signal?: AbortSignal },
): Promise<Omit<LogChunkView, 'job_id' | 'file'>> {
  const callOptions = { signal: options.signal };
  const size = await scheduler.fileSize(path, callOptions);
  if (size === undefined) {
    return { text: '', next_cursor: options.cursor ?? 0, size: 0, is_missing: true, has_more: false };
  }
  // A log its process has opened but not written yet: nothing to read (the backends refuse 0 bytes).
  if (size === 0) return { text: '', next_cursor: 0, size: 0, is_missing: false, has_more: false };
  const maxBytes = Math.min(options.maxBytes ?? DEFAULT_LOG_READ_BYTES, MAX_LOG_READ_BYTES);
  if (options.tailLines !== undefined && options.cursor === undefined) {
    const start = Math.max(0, size - maxBytes);
    const chunk = await scheduler.readFile(path, start, size - start, callOptions);
    const data = skipContinuationBytes(chunk.data, start > 0);
    const { text, consumed } = decodeUtf8Prefix(data);
    const lines = text.split('\n');
    const hasFinalNewline = text.endsWith('\n');
    const body = hasFinalNewline ? lines.slice(0, -1) : lines;
    const tail = body.slice(-options.tailLines).join('\n') + (hasFinalNewline && body.length > 0 ? '\n' : '');
    return {
      text: tail,
      next_cursor: start + (chunk.data.length - data.length) + consumed,
      size: chunk.size,
      is_missing: false,
      has_more: false,
    };
  }
  const cursor = Math.min(options.cursor ?? 0, size);
  const chunk = await scheduler.readFile(path, cursor, maxBytes, callOptions);
  const { text, consumed } = decodeUtf8Prefix(chunk.data);
  return {
    text,
    next_cursor: cursor + consumed,
    size: chunk.size,
    is_missing: false,
    has_more: cursor + consumed < chunk.size,
  };
}

/** Error-log tails of starting jobs by path, re-read only when the file grew (status is polled). */
export class ErrorTails {
  private readonly tails = new Map<string, { size: number; text: string }>();

  async read(
    scheduler: Scheduler,
    logDir: string,
    layout: LaunchLayout | undefined,
    signal?: AbortSignal,
  ): Promise<LogText[]> {
    const files = (layout?.logFiles ?? ['log.out', 'log.err']).filter(
      (f) => f.endsWith('.err') || f === 'log.out',
    );
    const texts: LogText[] = [];
    for (const file of files) {
      const path = `${logDir}/${file}`;
      const size = await scheduler.fileSize(path, { signal });
      if (!size) continue;
      let tail = this.tails.get(path);
      if (tail?.size !== size) {
        const start = Math.max(0, size - DIAGNOSIS_TAIL_BYTES);
        const chunk = await scheduler.readFile(path, start, size - start, { signal });
        tail = { size, text: decodeUtf8Prefix(skipContinuationBytes(chunk.data, start > 0), true).text };
        this.tails.set(path, tail);
      }
      texts.push({ file, text: tail.text });
    }
    return texts;
  }

  forget(logDir: string): void {
    for (const path of this.tails.keys()) if (path.startsWith(`${logDir}/`)) this.tails.delete(path);
  }
}

/** A read that starts mid-file may start inside a UTF-8 sequence; drop its continuation bytes. */
export function skipContinuationBytes(data: Buffer, isMidFile: boolean): Buffer {
  if (!isMidFile) return data;
  let start = 0;
  while (start < data.length && start < 4 && (data[start]! & 0xc0) === 0x80) start++;
  return data.subarray(start);
}
