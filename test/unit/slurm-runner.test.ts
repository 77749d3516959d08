import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmlError } from '../../src/errors.js';
import { LocalRunner, SshRunner, type TransferEvent } from '../../src/scheduler/slurm/runner.js';
import { decodeUtf8Prefix } from '../../src/text.js';
import { rejection } from '../helpers/errors.js';

const HOSTILE = `it's "quoted" $(touch /tmp/pwned) \`id\` ; rm -rf / * \\ \n tab\there`;

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'sml-runner-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('LocalRunner commands', () => {
  it('always sets SLURM_TIME_FORMAT=standard and the extra environment', async () => {
    const runner = new LocalRunner({ env: { SLURM_CONF: '/x/slurm.conf' } });
    const result = await runner.run(['printenv', 'SLURM_TIME_FORMAT', 'SLURM_CONF']);
    expect(result.stdout.toString()).toBe('standard\n/x/slurm.conf\n');
  });

  it('passes argv without a shell', async () => {
    const result = await new LocalRunner().run(['printf', '%s', HOSTILE]);
    expect(result.stdout.toString()).toBe(HOSTILE);
  });

  it('returns a non-zero exit as a result, with stderr', async () => {
    const result = await new LocalRunner().run(['ls', join(directory, 'missing')]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/No such file/);
  });

  it('reports a missing program as SCHEDULER_UNREACHABLE', async () => {
    const error = await rejection(new LocalRunner().run(['sml-no-such-program']));
    expect(error.code).toBe('SCHEDULER_UNREACHABLE');
    expect(error.message).toContain('sml-no-such-program');
  });

  it('stops a command at its timeout', async () => {
    const error = await rejection(new LocalRunner().run(['sleep', '10'], { timeoutMs: 200 }));
    expect(error.code).toBe('TIMEOUT');
  });

  it('stops a command when the signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await rejection(new LocalRunner().run(['sleep', '10'], { signal: controller.signal }));
    expect(error.code).toBe('CANCELLED');
  });

  it('reports every command to the observer', async () => {
    const events: TransferEvent[] = [];
    await new LocalRunner({ onTransfer: (event) => events.push(event) }).run(['echo', 'four'], {
      input: 'ab',
    });
    expect(events).toEqual([{ operation: 'command', program: 'echo', bytesReceived: 5, bytesSent: 2 }]);
  });
});

describe('LocalRunner files', () => {
  it('reads only the requested byte range and reports the size', async () => {
    const path = join(directory, 'range.log');
    await writeFile(path, '0123456789');
    const runner = new LocalRunner();
    const chunk = await runner.readRange(path, 3, 4);
    expect(chunk.data.toString()).toBe('3456');
    expect(chunk.size).toBe(10);
    expect((await runner.readRange(path, 8, 100)).data.toString()).toBe('89');
    expect((await runner.readRange(path, 10, 100)).data.length).toBe(0);
    expect((await runner.readRange(path, 50, 100)).data.length).toBe(0);
  });

  it('reports a missing file as NOT_FOUND and a directory as INVALID_ARGUMENT', async () => {
    const runner = new LocalRunner();
    expect((await rejection(runner.readRange(join(directory, 'nope'), 0, 10))).code).toBe('NOT_FOUND');
    expect((await rejection(runner.readRange(directory, 0, 10))).code).toBe('INVALID_ARGUMENT');
    expect(await runner.fileSize(join(directory, 'nope'))).toBeUndefined();
  });

  it('writes atomically with the mode asked for, creating the parent, leaving no temp file', async () => {
    const runner = new LocalRunner();
    const path = join(directory, 'new', 'dir', 'script.sh');
    await runner.writeFile(path, '#!/bin/bash\necho one\n', { mode: 0o700 });
    await runner.writeFile(path, '#!/bin/bash\necho two\n', { mode: 0o700 });
    expect(await readFile(path, 'utf8')).toBe('#!/bin/bash\necho two\n');
    expect((await stat(path)).mode & 0o777).toBe(0o700);
    expect(await readdir(join(directory, 'new', 'dir'))).toEqual(['script.sh']);
    expect(await runner.fileSize(path)).toBe(21);
  });

  it('follows a file by offset without splitting UTF-8 characters', async () => {
    const path = join(directory, 'utf8.log');
    const text = 'Grüße aus Zürich — 日本語のログ 🚀 done\n'.repeat(20);
    await writeFile(path, text);
    const runner = new LocalRunner();
    let cursor = 0;
    let decoded = '';
    // 7-byte reads land inside 2-, 3- and 4-byte sequences.
    for (;;) {
      const chunk = await runner.readRange(path, cursor, 7);
      if (chunk.data.length === 0) break;
      const isEndOfFile = cursor + chunk.data.length >= chunk.size;
      const { text: piece, consumed } = decodeUtf8Prefix(chunk.data, isEndOfFile);
      expect(piece).not.toContain('\uFFFD');
      decoded += piece;
      cursor += consumed;
    }
    expect(decoded).toBe(text);
  });
});

describe('SshRunner command line', () => {
  it('quotes every word so a remote POSIX shell sees the original argv', async () => {
    const runner = new SshRunner({ host: 'login.example' }, { env: { SLURM_CONF: '/etc/a b/slurm.conf' } });
    const line = runner.remoteCommand(['printf', '%s\\n', HOSTILE, 'SLURM_CONF']);
    expect(line.startsWith("env 'SLURM_CONF=/etc/a b/slurm.conf' SLURM_TIME_FORMAT=standard printf ")).toBe(
      true,
    );
    // The remote side is a login shell given this one string: run it through bash and sh here.
    for (const shell of ['bash', 'sh']) {
      const result = await execa(shell, ['-c', line]);
      expect(result.stdout).toBe(`${HOSTILE}\nSLURM_CONF`);
    }
    const environment = await execa('bash', [
      '-c',
      runner.remoteCommand(['printenv', 'SLURM_CONF', 'SLURM_TIME_FORMAT']),
    ]);
    expect(environment.stdout).toBe('/etc/a b/slurm.conf\nstandard');
  });

  it('refuses a host that ssh would read as an option', () => {
    expect(() => new SshRunner({ host: '-oProxyCommand=touch /tmp/x' })).toThrow(SmlError);
    expect(() => new SshRunner({ host: 'a b' })).toThrow(SmlError);
  });

  it('refuses an environment variable name that is not one', () => {
    expect(() => new SshRunner({ host: 'h' }, { env: { 'A;B': '1' } })).toThrow(SmlError);
  });

  it('reports a host it cannot reach as SCHEDULER_UNREACHABLE', async () => {
    // Port 1 on loopback is closed: ssh exits 255 at once.
    const runner = new SshRunner({ host: '127.0.0.1', port: 1, options: ['StrictHostKeyChecking=no'] });
    const error = await rejection(runner.run(['true']));
    expect(error.code).toBe('SCHEDULER_UNREACHABLE');
    expect(error.message).toContain('ssh 127.0.0.1:1');
  });
});
