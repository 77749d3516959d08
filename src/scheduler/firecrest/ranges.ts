import { SmlError } from '../../errors.js';
import type { FileChunk } from '../scheduler.js';

/**
 * Reading byte ranges of a remote file through FirecREST's text-returning filesystem ops.
 *
 * `ops/tail?bytes=N&skipHeading=true` runs `tail -c +N`: the file from byte N-1 (0-based) to its
 * end, exact wherever it starts, but the whole rest must stay below the server's output buffer.
 * `ops/view?offset&size` reads two `size`-byte blocks from the block holding `offset`, decodes
 * them and slices *characters*: exact only when `offset` is a multiple of `size`. So small
 * remainders are read with tail, and large ones with views whose offsets are block-aligned.
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

/** Up to `maxBytes` bytes of `path` from `offset`, never more than the server's limits per call. */
export async function readRange(
  transport: RangeTransport,
  path: string,
  offset: number,
  maxBytes: number,
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
      if (error instanceof SmlError && error.details?.status === 413) return undefined;
      throw error;
    });
    if (text !== undefined) {
      const bytes = textToBytes(text);
      return { data: bytes.subarray(0, maxBytes), size: Math.max(size, offset + bytes.length) };
    }
  }
  const data = await readByBlocks(transport, path, offset, Math.min(maxBytes, remaining), limit);
  return { data, size: Math.max(size, offset + data.length) };
}

async function readByBlocks(
  transport: RangeTransport,
  path: string,
  offset: number,
  want: number,
  limit: number,
): Promise<Buffer> {
  // Blocks are powers of two: once aligned, each block ends on a boundary of the next, larger one.
  const largest = floorPowerOfTwo(Math.max(1, Math.floor((limit - 1) / 2)));
  const granule = Math.min(largest, clamp(floorPowerOfTwo(Math.max(1, Math.floor(want / 16))), 4096, 65536));
  const parts: Buffer[] = [];
  let cursor = offset;
  let got = 0;
  while (got < want) {
    const blockStart = cursor - (cursor % granule);
    const need = want - got;
    // Never ask for (much) more than is wanted: the largest aligned block within the wanted span.
    const blockSize = Math.max(
      granule,
      Math.min(lowestSetBit(blockStart) ?? largest, largest, floorPowerOfTwo(cursor - blockStart + need)),
    );
    const text = await transport.view(path, blockStart, blockSize);
    const bytes = textToBytes(text);
    const skip = cursor - blockStart;
    if (bytes.length <= skip) break; // end of file
    // End at the block boundary, extended to finish a character that straddles it.
    let end = Math.min(bytes.length, blockSize);
    while (end < bytes.length && ((bytes[end] ?? 0) & 0xc0) === 0x80) end++;
    const take = bytes.subarray(skip, Math.min(end, skip + need));
    parts.push(take);
    got += take.length;
    cursor += take.length;
    if (bytes.length < blockSize) break; // the view reached the end of the file
  }
  return Buffer.concat(parts);
}

/**
 * Bytes of text decoded by the server. Leading replacement characters (a block starting inside a
 * character) each stand for one byte; a trailing one (a character cut by the read window or still
 * being written) is dropped so it is read again whole, unless it is all there is.
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

function floorPowerOfTwo(n: number): number {
  let power = 1;
  while (power * 2 <= n) power *= 2;
  return power;
}

/** The largest power of two dividing n (undefined for 0, which every block size divides). */
function lowestSetBit(n: number): number | undefined {
  if (n === 0) return undefined;
  let bit = 1;
  while (n % (bit * 2) === 0) bit *= 2;
  return bit;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
