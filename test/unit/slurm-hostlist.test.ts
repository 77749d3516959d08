import { describe, expect, it } from 'vitest';
import { SmlError } from '../../src/errors.js';
import { expandHostlist } from '../../src/scheduler/hostlist.js';

describe('expandHostlist', () => {
  it('expands ranges and single values inside brackets', () => {
    expect(expandHostlist('n[1-3,5]')).toEqual(['n1', 'n2', 'n3', 'n5']);
  });

  it('keeps zero padding', () => {
    expect(expandHostlist('gpu-[01-04]')).toEqual(['gpu-01', 'gpu-02', 'gpu-03', 'gpu-04']);
    expect(expandHostlist('nid[008-011]')).toEqual(['nid008', 'nid009', 'nid010', 'nid011']);
  });

  it('splits top-level commas but not commas inside brackets', () => {
    expect(expandHostlist('n1,n[3-4],login')).toEqual(['n1', 'n3', 'n4', 'login']);
  });

  it('multiplies several brackets and keeps suffixes', () => {
    expect(expandHostlist('r[1-2]c[1-2]')).toEqual(['r1c1', 'r1c2', 'r2c1', 'r2c2']);
    expect(expandHostlist('n[1-2]-ib')).toEqual(['n1-ib', 'n2-ib']);
  });

  it('passes plain names through and treats placeholders as empty', () => {
    expect(expandHostlist('n4')).toEqual(['n4']);
    expect(expandHostlist('')).toEqual([]);
    expect(expandHostlist('(null)')).toEqual([]);
    expect(expandHostlist('None assigned')).toEqual([]);
  });

  it('rejects malformed expressions with an SmlError', () => {
    for (const bad of ['n[1-3', 'n1-3]', 'n[a-b]', 'n[3-1]']) {
      expect(() => expandHostlist(bad), bad).toThrow(SmlError);
    }
  });

  it('refuses expansions that would exhaust memory', () => {
    expect(() => expandHostlist('n[1-99999999]')).toThrow(SmlError);
  });
});
