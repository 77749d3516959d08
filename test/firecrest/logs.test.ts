/**
 * Logs through FirecREST: reads by byte offset are exact for UTF-8 text at any offset and any
 * size, files far beyond the direct-ops limit are read in pieces, and following a growing log
 * costs about its own size in transfer (counted by the double).
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FirecrestScheduler } from '../../src/scheduler/firecrest/index.js';
import { decodeUtf8Prefix } from '../../src/text.js';
import type { FirecrestDouble } from '../doubles/firecrest/index.js';
import { backendFor, startDouble } from './harness.js';

const MiB = 1024 * 1024;

/** Log-like lines with 1-, 2-, 3- and 4-byte characters and carriage returns (progress bars). */
function logLines(from: number, count: number): string {
  let text = '';
  for (let i = from; i < from + count; i++) {
    if (i % 7 === 0)
      text += `Loading safetensors ${i % 100}% |${'█'.repeat(i % 23)}${' '.repeat(23 - (i % 23))}|\r`;
    else if (i % 11 === 0) text += `[${i}] réponse reçue 😀 in ${i % 97} ms\n`;
    else
      text += `[2026-11-28 02:10:${String(i % 60).padStart(2, '0')}] INFO request ${i} served, tokens=${i * 7}\n`;
  }
  return text;
}

/** Read like the job service does: from a cursor, advancing by whole characters. */
async function readAll(
  backend: FirecrestScheduler,
  path: string,
  maxBytes: number,
  from = 0,
): Promise<string> {
  let cursor = from;
  let text = '';
  for (;;) {
    const chunk = await backend.readFile(path, cursor, maxBytes);
    const atEnd = cursor + chunk.data.length >= chunk.size;
    const decoded = decodeUtf8Prefix(chunk.data, atEnd);
    text += decoded.text;
    cursor += decoded.consumed;
    if (cursor >= chunk.size) return text;
    expect(decoded.consumed).toBeGreaterThan(0);
  }
}

describe('FirecREST logs: exact ranged reads', () => {
  let double: FirecrestDouble;
  let backend: FirecrestScheduler;
  let path: string;
  let original: string;

  beforeAll(async () => {
    // A small direct-ops limit (64 KiB) so that a 400 kB file is "far larger than the limit".
    double = await startDouble({ maxOpsFileSize: 64 * 1024 });
    backend = backendFor(double);
    path = posix.join(double.home, 'mixed.log');
    original = logLines(0, 8000);
    await writeFile(path, original);
  });

  afterAll(async () => {
    await backend?.close();
    await double?.stop();
  });

  it.each([1000, 4096, 20_000, 65_536, 300_000])(
    'reads the whole file exactly in chunks of %i bytes',
    async (maxBytes) => {
      expect(Buffer.byteLength(original)).toBeGreaterThan(6 * 64 * 1024);
      expect(await readAll(backend, path, maxBytes)).toBe(original);
    },
  );

  it('returns exactly the bytes of the file from any offset, even inside a character', async () => {
    const bytes = await readFile(path);
    for (const offset of [1, 4095, 32_767, 65_537, 100_003, 250_001, bytes.length - 5]) {
      const chunk = await backend.readFile(path, offset, 3000);
      expect(chunk.size).toBe(bytes.length);
      // Up to the 3000 bytes asked for (a view sized by characters may bring a few less).
      expect(chunk.data.length).toBeGreaterThan(Math.min(2900, bytes.length - offset - 1));
      expect(chunk.data.length).toBeLessThanOrEqual(3000);
      const expected = bytes.subarray(offset, offset + chunk.data.length);
      // Bytes of a character cut by the offset come back as stray continuation bytes; the rest is exact.
      let start = 0;
      while (start < 3 && (expected[start]! & 0xc0) === 0x80) start++;
      expect(chunk.data.subarray(start)).toEqual(expected.subarray(start));
      for (let i = 0; i < start; i++) expect(chunk.data[i]! & 0xc0).toBe(0x80);
    }
  });

  it('answers an empty chunk at the end and NOT_FOUND for a missing file', async () => {
    const size = (await readFile(path)).length;
    expect(await backend.readFile(path, size, 100)).toEqual({ data: Buffer.alloc(0), size });
    await expect(backend.readFile(posix.join(double.home, 'nope.log'), 0, 10)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await backend.fileSize(posix.join(double.home, 'nope.log'))).toBeUndefined();
  });
});

describe('FirecREST logs: transfer budget of a 20 MB log', () => {
  let double: FirecrestDouble;
  let backend: FirecrestScheduler;
  const target = 20 * MiB;

  beforeAll(async () => {
    double = await startDouble();
    backend = backendFor(double);
  });

  afterAll(async () => {
    await backend?.close();
    await double?.stop();
  });

  it('follows a log growing to 20 MB with at most 1.1 × 20 MB sent by the double, and reads it exactly', async () => {
    const path = posix.join(double.home, 'growing.log');
    await writeFile(path, '');
    double.resetCounters();
    let written = 0;
    let line = 0;
    let isWriting = true;
    const writer = (async () => {
      while (written < target) {
        const piece = logLines(line, 400);
        line += 400;
        await appendFile(path, piece);
        written += Buffer.byteLength(piece);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      isWriting = false;
    })();
    let cursor = 0;
    const parts: string[] = [];
    for (;;) {
      // Only a read that started after the last write may treat the end of the file as final.
      const hasWriterFinished = !isWriting;
      const chunk = await backend.readFile(path, cursor, 4 * MiB);
      const done = hasWriterFinished && cursor + chunk.data.length >= chunk.size;
      const decoded = decodeUtf8Prefix(chunk.data, done);
      parts.push(decoded.text);
      cursor += decoded.consumed;
      if (done && cursor >= chunk.size) break;
      if (decoded.consumed === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await writer;
    const expected = await readFile(path, 'utf8');
    expect(parts.join('') === expected).toBe(true);
    const ratio = double.counters.bytesSent / written;
    expect(written).toBeGreaterThanOrEqual(target);
    expect(ratio, `sent ${double.counters.bytesSent} bytes for ${written}`).toBeLessThanOrEqual(1.1);
  });

  it('catches up on the finished 20 MB log from the start in 256 KiB reads within the same budget', async () => {
    const path = posix.join(double.home, 'growing.log');
    const size = (await readFile(path)).length;
    double.resetCounters();
    const text = await readAll(backend, path, 256 * 1024);
    expect(text === (await readFile(path, 'utf8'))).toBe(true);
    const ratio = double.counters.bytesSent / size;
    expect(ratio, `sent ${double.counters.bytesSent} bytes for ${size}`).toBeLessThanOrEqual(1.1);
  });
});
