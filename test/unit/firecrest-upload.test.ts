import { readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FirecrestScheduler } from '../../src/scheduler/firecrest/index.js';
import { type FirecrestDouble, startFirecrestDouble } from '../doubles/firecrest/index.js';
import { backendFor } from '../firecrest/harness.js';

/** File uploads through the FirecREST backend: a multipart/form-data body the double's reader accepts. No SLURM involved. */
let double: FirecrestDouble;
let backend: FirecrestScheduler;

beforeAll(async () => {
  double = await startFirecrestDouble();
  backend = backendFor(double);
});

afterAll(() => double.close());

describe('FirecREST upload', () => {
  it('writes bytes exactly under a file name with spaces and non-ASCII, then sets the mode', async () => {
    const path = posix.join(double.home, 'env', 'my file ü.toml');
    const content = Buffer.concat([Buffer.from('[env]\r\nA = "1"\n'), Buffer.from([0, 255, 13, 10, 45, 45])]);
    await backend.mkdir(posix.dirname(path));
    await backend.writeFile(path, content, { mode: 0o640 });
    expect(readFileSync(path)).toEqual(content);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(await backend.fileSize(path)).toBe(content.length);
  });
});
