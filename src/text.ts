/**
 * Decode a chunk of bytes read at some offset as UTF-8, keeping a trailing incomplete sequence
 * for the next read: `consumed` is how far the caller's cursor may advance.
 */
export function decodeUtf8Prefix(data: Buffer, isEndOfFile = false): { text: string; consumed: number } {
  let end = data.length;
  if (!isEndOfFile) {
    // Walk back over at most 3 continuation bytes to the lead byte of the last sequence.
    let start = end - 1;
    while (start >= 0 && end - start <= 4 && (data[start]! & 0xc0) === 0x80) start--;
    if (start >= 0) {
      const lead = data[start]!;
      const expected = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (end - start < expected) end = start;
    }
  }
  return { text: data.subarray(0, end).toString('utf8'), consumed: end };
}
