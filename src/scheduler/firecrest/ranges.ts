import { SmlError } from '../../errors.js';
import type { FileChunk } from '../scheduler.js';

/**
 * Reading byte ranges of a remote file through FirecREST's text-returning filesystem ops.
 *
 * `ops/tail?bytes=N&skipHeading=true` runs `tail -c +N`: the file from byte N-1 (0-based) to its
 * end, exact wherever it starts, but the whole rest must stay below the server's output buffer.
 * `ops/view?offset&size` reads two `size`-byte blocks from the block holding `offset`, decodes
 * them and slices *characters*: exact only when `offset` is a multiple of `size`. So small
 * remainders are read with tail, and large ones with one view whose offset is block-aligned.
 * Both answer decoded text; re-encoding it gives back the file's bytes when the file is UTF-8.
 */
export interface RangeTransport {
  /** File size in bytes, or undefined when the file does not exist. */
  size(path: string): Promise<number | undefined>;
  /** The text of the file from byte `offset` (0-based) to its current end. */
  tailFrom(path: string, offset: number): Promise<string>;
  /** `ops/view` with a block-aligned `offset` (a multiple of `size`). */
  view(path: string, offset: number, size: number): Promise<string>;
  /** The server's direct-ops limit (`max_ops_file_size`), which is also its command output buffer. */
  maxOpsBytes(): Promise<number>;
}

const REPLACEMENT = '\uFFFD';
const PLACEHOLDER_BYTE = 0x80; // a stray continuation byte: decodes as U+FFFD, as the unknown byte did

/** What earlier reads of a file taught: its UTF-8 bytes per character, to size views in characters. */
export interface TextEstimate {
  bytesPerChar: number;
}

/** Up to `maxBytes` bytes of `path` from `offset`, never more than the server's limits per call. */
export async function readRange(
  transport: RangeTransport,
  path: string,
  offset: number,
  maxBytes: number,
  estimate: TextEstimate = { bytesPerChar: 1 },
): Promise<FileChunk> {
  if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(maxBytes) || maxBytes < 0) {
    throw new SmlError('INVALID_ARGUMENT', `Cannot read ${path} at offset ${offset} for ${maxBytes} bytes.`, {
      hint: 'Offset and length are whole numbers of bytes, 0 or more.',
    });
  }
  const size = await transport.size(path);
  if (size === undefined) {
    throw new SmlError('NOT_FOUND', `The file ${path} does not exist (yet).`, {
      hint: 'Log files appear once the job has started; try again in a moment.',
    });
  }
  if (offset >= size || maxBytes === 0) return { data: Buffer.alloc(0), size };
  const remaining = size - offset;
  const limit = await transport.maxOpsBytes();
  if (remaining <= maxBytes && remaining < limit / 2) {
    const text = await transport.tailFrom(path, offset).catch((error: unknown) => {
      // The file grew past the output buffer since it was measured: read by blocks instead.
      if (error instanceof SmlError && error.httpStatus === 413) return undefined;
      throw error;
    });
    if (text !== undefined) {
      const bytes = textToBytes(text);
      return { data: bytes.subarray(0, maxBytes), size: Math.max(size, offset + bytes.length) };
    }
  }
  const data = await readByView(transport, path, offset, Math.min(maxBytes, remaining), limit, estimate);
  return { data, size: Math.max(size, offset + data.length) };
}

/**
 * One `ops/view` covering `[offset, offset + want)` as far as the limit allows. The view's offset
 * must be a multiple of its size to start exactly, so the block is `[k·S, k·S + S)` with
 * `S = floor(offset / k)`: it starts fewer than `k` bytes before `offset`.
 */
async function readByView(
  transport: RangeTransport,
  path: string,
  offset: number,
  want: number,
  limit: number,
  estimate: TextEstimate,
): Promise<Buffer> {
  // The server reads two blocks of `size` bytes, which must stay below its output buffer.
  const largest = Math.max(1, Math.floor((limit - 1) / 2));
  // `size` is also the number of characters answered: fewer are needed where characters are wide.
  const ratio = Math.min(2, Math.max(1, estimate.bytesPerChar));
  const block = planBlock(offset, Math.min(want, largest), largest, ratio);
  const text = await transport.view(path, block.start, block.size);
  const bytes = textToBytes(text);
  const chars = codePoints(text);
  if (chars > 1024) estimate.bytesPerChar = bytes.length / chars;
  return bytes.subarray(Math.min(block.skip, bytes.length), block.skip + want);
}

function planBlock(
  offset: number,
  want: number,
  largest: number,
  ratio: number,
): { start: number; size: number; skip: number } {
  // Near the start of the file, read from 0: what is skipped is less than what is wanted.
  if (offset < want)
    return { start: 0, size: Math.min(largest, Math.ceil((offset + want) / ratio)), skip: offset };
  const blockAt = (k: number) => {
    const size = Math.floor(offset / k);
    return { start: k * size, size, skip: offset - k * size };
  };
  const covers = (block: { size: number; skip: number }) => block.size * ratio - block.skip >= want;
  // Fewer, larger blocks per offset until one covers `want` after the skipped bytes (skip < k).
  const fewest = Math.max(1, Math.ceil(offset / largest));
  let k = Math.max(fewest, Math.ceil((offset * ratio) / want));
  let block = blockAt(k);
  for (let step = 0; k > fewest && !covers(block); step++) {
    // Far into a file with a small `want`, jump to where size - (k - 1) >= want must hold.
    const bound = Math.floor((Math.sqrt(want * want + 4 * offset) - want) / 2);
    k = step === 64 ? Math.max(fewest, Math.min(k - 1, bound)) : k - 1;
    block = blockAt(k);
  }
  return block;
}

function codePoints(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) count--;
  }
  return count;
}

/**
 * Bytes of text decoded by the server. Leading replacement characters (a block starting inside a
 * character) each stand for one byte; a trailing one (a character cut by the read window or still
 * being written) is dropped so it is read again whole.
 */
export function textToBytes(text: string): Buffer {
  let leading = 0;
  while (leading < 3 && text[leading] === REPLACEMENT) leading++;
  let body = text.slice(leading);
  if (body.endsWith(REPLACEMENT)) body = body.slice(0, -1);
  const encoded = Buffer.from(body, 'utf8');
  if (leading === 0) return encoded;
  return Buffer.concat([Buffer.alloc(leading, PLACEHOLDER_BYTE), encoded]);
}
