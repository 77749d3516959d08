import { describe, expect, it } from 'vitest';
import { makeJobName, makeJobTag, newLaunchId, parseJobTag } from '../../src/domain/job-name.js';

describe('job names and tags', () => {
  it('prefixes sml_ and keeps only safe characters', () => {
    expect(makeJobName('alice/swiss-ai/Apertus-8B', 'abc123')).toBe('sml_alice_swiss-ai_Apertus-8B_abc123');
    const hostile = makeJobName(`alice/it's $(rm -rf) \`x\`\n*;é`, 'abc123');
    expect(hostile).toMatch(/^sml_[A-Za-z0-9._-]+$/);
    expect(makeJobName('x'.repeat(300), 'abc123').length).toBeLessThanOrEqual(100);
  });

  it('tags round-trip and foreign comments are not ours', () => {
    const id = newLaunchId();
    expect(parseJobTag(makeJobTag(id, 3))).toEqual({ launchId: id, index: 3 });
    expect(parseJobTag('something else')).toBeUndefined();
    expect(parseJobTag(undefined)).toBeUndefined();
    expect(() => makeJobTag('Bad Id', 0)).toThrow(/Launch id/);
  });
});
