import { describe, expect, it } from 'vitest';
import { readLogChunk } from '../../src/jobs/log-reads.js';
import { InMemoryScheduler } from '../doubles/scheduler/index.js';

/** Log reads through the Scheduler seam, whose backends refuse a read of zero bytes. */
describe('readLogChunk', () => {
  it('tails a log that exists but is still empty without reading from it', async () => {
    const scheduler = new InMemoryScheduler();
    scheduler.putFile('/work/logs/7/replica_0.err', '');
    const chunk = await readLogChunk(scheduler, '/work/logs/7/replica_0.err', { tailLines: 5 });
    expect(chunk).toEqual({ text: '', next_cursor: 0, size: 0, is_missing: false, has_more: false });
  });

  it('tails the last lines of a log that has some', async () => {
    const scheduler = new InMemoryScheduler();
    scheduler.putFile('/work/logs/7/log.out', 'one\ntwo\nthree\n');
    const chunk = await readLogChunk(scheduler, '/work/logs/7/log.out', { tailLines: 2 });
    expect(chunk).toMatchObject({ text: 'two\nthree\n', next_cursor: 14, size: 14, has_more: false });
  });
});
