/** The FirecREST backend's pure pieces: configuration, tags in job names, host lists, Retry-After, text → bytes. */

import { describe, expect, it } from 'vitest';
import { SmlError } from '../../src/errors.js';
import {
  firecrestCredentialsFromEnv,
  parseRetryAfter,
  splitJobName,
  taggedJobName,
  textToBytes,
  toJobInfo,
} from '../../src/scheduler/firecrest/index.js';
import { scriptJobName, withCommentDirective } from '../../src/scheduler/firecrest/jobs.js';
import { expandHostlist } from '../../src/scheduler/hostlist.js';

describe('firecrestCredentialsFromEnv', () => {
  const full = {
    SML_FIRECREST_URL: 'https://api.example.org/ml/firecrest/v2',
    SML_FIRECREST_TOKEN_URI: 'https://auth.example.org/token',
    SML_FIRECREST_CLIENT_ID: 'client',
    SML_FIRECREST_CLIENT_SECRET: 'client-secret-value',
  };

  it('reads client credentials', () => {
    expect(firecrestCredentialsFromEnv(full)).toEqual({
      url: full.SML_FIRECREST_URL,
      tokenUri: full.SML_FIRECREST_TOKEN_URI,
      auth: {
        kind: 'client-credentials',
        tokenUri: full.SML_FIRECREST_TOKEN_URI,
        clientId: 'client',
        clientSecret: 'client-secret-value',
      },
    });
  });

  it('prefers the API key and needs no token URI for it', () => {
    const settings = firecrestCredentialsFromEnv({ ...full, SML_FIRECREST_API_KEY: 'key-123456' });
    expect(settings.auth).toEqual({ kind: 'api-key', apiKey: 'key-123456' });
  });

  it('takes the token URI from the profile default when the variable is unset', () => {
    const { SML_FIRECREST_TOKEN_URI: _, ...rest } = full;
    const settings = firecrestCredentialsFromEnv(rest, { tokenUri: 'https://auth.example.org/default' });
    expect(settings.auth).toMatchObject({ tokenUri: 'https://auth.example.org/default' });
  });

  it('returns no credential when none is set, and names what is missing when half is set', () => {
    expect(firecrestCredentialsFromEnv({}).auth).toBeUndefined();
    let error: unknown;
    try {
      firecrestCredentialsFromEnv({ SML_FIRECREST_CLIENT_ID: 'client' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SmlError);
    expect((error as SmlError).code).toBe('NOT_CONFIGURED');
    expect((error as SmlError).message).toContain('SML_FIRECREST_CLIENT_SECRET');
    expect((error as SmlError).message).toContain('SML_FIRECREST_TOKEN_URI');
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => firecrestCredentialsFromEnv({ SML_FIRECREST_URL: 'api.example.org' })).toThrow(
      /not an http/,
    );
  });
});

describe('tags in FirecREST job names', () => {
  it('round-trips the script name and the tag', () => {
    const name = taggedJobName('sml_llama_abc123', 'sml-mcp:abc123:0');
    expect(name).toBe('sml_llama_abc123~sml-mcp:abc123:0');
    expect(splitJobName(name)).toEqual({ name: 'sml_llama_abc123', comment: 'sml-mcp:abc123:0' });
    expect(splitJobName('plain')).toEqual({ name: 'plain' });
  });

  it('keeps the tag whole within 235 characters and never lets the name hide the separator', () => {
    const name = taggedJobName(`a~b${'x'.repeat(400)}`, 'sml-mcp:abc123:1');
    expect(name.length).toBeLessThanOrEqual(235);
    expect(splitJobName(name).comment).toBe('sml-mcp:abc123:1');
    expect(() => taggedJobName('x', 'has space')).toThrow(SmlError);
  });

  it('finds the job name of a script and adds the comment directive after the shebang', () => {
    const script =
      '#!/bin/bash\n#SBATCH --job-name=sml_x_1\n#SBATCH -N 2\nsrun hostname\n#SBATCH --comment=late\n';
    expect(scriptJobName(script)).toBe('sml_x_1');
    expect(scriptJobName('#!/bin/bash\n#SBATCH -J other\n')).toBe('other');
    expect(scriptJobName('#!/bin/bash\necho hi\n#SBATCH --job-name=late\n')).toBeUndefined();
    const tagged = withCommentDirective(script, 'sml-mcp:abc123:0');
    expect(tagged.split('\n').slice(0, 2)).toEqual(['#!/bin/bash', '#SBATCH --comment=sml-mcp:abc123:0']);
    const already = '#!/bin/bash\n#SBATCH --comment=mine\n';
    expect(withCommentDirective(already, 'sml-mcp:abc123:0')).toBe(already);
  });
});

describe('job objects as JobInfo', () => {
  it('maps the quirks: CANCELLED by uid, "None" reason, epoch times, limit seconds, host lists', () => {
    const info = toJobInfo({
      jobId: '1234',
      name: 'sml_a_x~sml-mcp:x1234:0',
      status: { state: 'CANCELLED by 0', stateReason: 'None', exitCode: 0, interruptSignal: 15 },
      time: { start: 1750232859, end: 1750232924, limit: 93600, elapsed: 65, suspended: 0 },
      account: 'proj',
      nodes: 'nid[001-002],login7',
      partition: 'normal',
      user: 'fireuser',
    });
    expect(info).toEqual({
      jobId: '1234',
      state: 'CANCELLED',
      rawState: 'CANCELLED by 0',
      name: 'sml_a_x',
      comment: 'sml-mcp:x1234:0',
      user: 'fireuser',
      account: 'proj',
      partition: 'normal',
      startTime: '2025-06-18T07:47:39.000Z',
      endTime: '2025-06-18T07:48:44.000Z',
      timeLimit: '1-02:00:00',
      nodes: ['nid001', 'nid002', 'login7'],
      exitCode: '0:15',
    });
  });

  it('leaves out what a pending job does not have yet', () => {
    const info = toJobInfo({
      jobId: '7',
      name: 'x',
      status: { state: 'PENDING', stateReason: 'Priority', exitCode: null, interruptSignal: null },
      time: { start: null, end: null, limit: null },
      nodes: 'None assigned',
    });
    expect(info).toEqual({
      jobId: '7',
      state: 'PENDING',
      rawState: 'PENDING',
      reason: 'Priority',
      name: 'x',
    });
  });

  it('expands host lists with ranges, padding and several groups', () => {
    expect(expandHostlist('n[1-3,7]')).toEqual(['n1', 'n2', 'n3', 'n7']);
    expect(expandHostlist('nid[008-010],x')).toEqual(['nid008', 'nid009', 'nid010', 'x']);
    expect(expandHostlist('a[1-2]b[1-2]')).toEqual(['a1b1', 'a1b2', 'a2b1', 'a2b2']);
  });
});

describe('Retry-After', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('text answers back to bytes', () => {
  it('re-encodes valid text exactly', () => {
    const text = 'plain █ é 😀\r\nend';
    expect(textToBytes(text)).toEqual(Buffer.from(text, 'utf8'));
  });

  it('counts leading replacement characters as one unknown byte each and drops a trailing one', () => {
    // A block starting inside "█" (e2 96 88) decodes its two continuation bytes as two U+FFFD.
    const bytes = textToBytes('\uFFFD\uFFFDabc\uFFFD');
    expect(bytes.length).toBe(5);
    expect(bytes.subarray(2).toString()).toBe('abc');
    expect(bytes[0]! & 0xc0).toBe(0x80);
  });
});
