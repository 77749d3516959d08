import { describe, expect, it } from 'vitest';
import { describeDuration, formatDuration, parseDuration } from '../../src/domain/duration.js';
import { SmlError } from '../../src/errors.js';

describe('parseDuration', () => {
  it.each([
    ['02:00:00', 7200],
    ['36:00:00', 129_600],
    ['1-12:00:00', 129_600],
    ['1-12', 129_600],
    ['2-03:04', 2 * 86_400 + 3 * 3600 + 4 * 60],
    ['90', 5400],
    ['05:30', 330],
    ['0-00:01:00', 60],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'abc', '1:2:3:4', '12h', '-5', '00:00:00', '0', '01:60:00', '1-24:00:00', '00:00:75', '1.5'])(
    'refuses %j naming the value and the accepted forms',
    (text) => {
      const error = (() => {
        try {
          parseDuration(text, 'time');
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(SmlError);
      expect((error as SmlError).code).toBe('INVALID_ARGUMENT');
      expect((error as SmlError).message).toContain(`'${text}'`);
      expect((error as SmlError).hint).toContain('D-HH:MM:SS');
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [60, '00:01:00'],
    [7200, '02:00:00'],
    [86_399, '23:59:59'],
    [86_400, '1-00:00:00'],
    [129_600, '1-12:00:00'],
    [10 * 86_400 + 61, '10-00:01:01'],
  ])('%i seconds print as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
    expect(parseDuration(text)).toBe(seconds);
  });

  it('describes durations briefly', () => {
    expect(describeDuration(9 * 3600)).toBe('9h');
    expect(describeDuration(5400)).toBe('1h30m');
    expect(describeDuration(900)).toBe('15m');
  });
});
