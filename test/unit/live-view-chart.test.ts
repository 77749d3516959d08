import { describe, expect, it } from 'vitest';
import { niceCeiling, pathOf } from '../../apps/live-view/geometry.js';

describe('the live view charts', () => {
  it('draw the newest value at the right edge and break the line where a figure was unknown', () => {
    expect(pathOf([0, 50, null, 100], 4, 100)).toBe('M0.0 64.0 L79.0 34.0 M237.0 4.0');
    // Fewer values than points: the line starts late, it does not stretch.
    expect(pathOf([100], 4, 100)).toBe('M237.0 4.0');
  });
  it('clip values above a fixed scale and lie flat on a zero scale', () => {
    expect(pathOf([2], 2, 1)).toBe('M237.0 4.0');
    expect(pathOf([0, 0], 2, 0)).toBe('M0.0 64.0 L237.0 64.0');
  });
  it('round the scale up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.03, 0.7, 3, 60.2, 101, 4999].map(niceCeiling)).toEqual([0, 0.05, 1, 5, 100, 200, 5000]);
  });
});
