import { describe, expect, it } from 'vitest';
import { ENDED_JOBS_SHOWN, HISTORY_POINTS, LiveState, LOG_KEEP_CHARS } from '../../apps/live-view/state.js';
import { aJob, aReplica } from '../helpers/live-view.js';

describe('the live view state', () => {
  it('lists running jobs (newest first), then the queue in the order it runs, then ended ones', () => {
    const state = new LiveState();
    state.setJobs([
      aJob({ job_id: '10', phase: 'ended', end_reason: 'cancelled' }),
      aJob({ job_id: '11' }),
      aJob({ job_id: '12', phase: 'queued' }),
      aJob({ job_id: '13', phase: 'queued' }),
      aJob({ job_id: '14', phase: 'starting' }),
      aJob({ job_id: '9', phase: 'ended' }),
    ]);
    expect(state.jobs.map((job) => job.job_id)).toEqual(['14', '11', '12', '13', '10', '9']);
    expect(state.selectedJobId).toBe('14');
  });

  it('moves an automatic selection on when its job ends, but keeps a job the person chose', () => {
    const state = new LiveState();
    state.setJobs([aJob({ job_id: '11' }), aJob({ job_id: '12' })]);
    state.setJobs([aJob({ job_id: '11' }), aJob({ job_id: '12', phase: 'ended' })]);
    expect(state.selectedJobId).toBe('11');
    state.select('11');
    state.setJobs([aJob({ job_id: '11', phase: 'ended' }), aJob({ job_id: '13' })]);
    expect(state.selectedJobId).toBe('11');
  });

  it(`lists every live job but only the ${ENDED_JOBS_SHOWN} newest ended ones, unless asked, and always the selected one`, () => {
    const state = new LiveState();
    const ended = Array.from({ length: 9 }, (_, i) => aJob({ job_id: String(10 + i), phase: 'ended' }));
    state.setJobs([...ended, aJob({ job_id: '5', phase: 'queued' })]);
    expect(state.listedJobs().jobs.map((job) => job.job_id)).toEqual(['5', '18', '17', '16', '15', '14']);
    expect(state.listedJobs().hiddenEnded).toBe(4);
    state.select('10');
    expect(state.listedJobs().jobs.map((job) => job.job_id)).toContain('10');
    state.isShowingAllEnded = true;
    expect(state.listedJobs()).toMatchObject({ hiddenEnded: 0 });
    expect(state.listedJobs().jobs).toHaveLength(10);
  });

  it('groups the jobs of a chain in chain order', () => {
    const state = new LiveState();
    const chain = [2, 0, 1].map((index) =>
      aJob({ job_id: String(20 + index), launch_id: 'chain', chain_index: index, chain_length: 3 }),
    );
    state.setJobs([...chain, aJob({ job_id: '30' })]);
    expect(state.chainOf(chain[0]!).map((job) => job.job_id)).toEqual(['20', '21', '22']);
  });

  it(`keeps the last ${HISTORY_POINTS} snapshots per job, each rated against the one before`, () => {
    const state = new LiveState();
    for (let i = 0; i <= HISTORY_POINTS; i++) {
      state.addSnapshot({
        job_id: '7',
        collected_at: new Date(Date.UTC(2026, 10, 30, 3, 0, i * 2)).toISOString(),
        replicas: [aReplica({ generation_tokens_total: i * 100 })],
        replica_health: [],
      });
    }
    const history = state.historyOf('7');
    expect(history).toHaveLength(HISTORY_POINTS);
    expect(history.every((figures) => figures.tokens_per_s === 50)).toBe(true);
  });

  it('tails a log first, then follows it from the cursor, and starts over for another file', () => {
    const state = new LiveState();
    expect(state.nextLogRead('7')).toEqual({ job_id: '7', file: 'log.out', tail_lines: 200 });
    const chunk = { job_id: '7', file: 'log.out', size: 6, has_more: false, is_missing: false };
    state.addLogChunk({ ...chunk, text: 'hello\n', next_cursor: 6, files: ['log.out', 'replica_0.err'] });
    expect(state.nextLogRead('7')).toEqual({ job_id: '7', file: 'log.out', cursor: 6 });
    state.addLogChunk({ ...chunk, text: 'x'.repeat(LOG_KEEP_CHARS), next_cursor: 6 + LOG_KEEP_CHARS });
    expect(state.log?.text).toHaveLength(LOG_KEEP_CHARS);
    expect(state.nextLogRead('7', 'replica_0.err')).toEqual({
      job_id: '7',
      file: 'replica_0.err',
      tail_lines: 200,
    });
    expect(state.log).toMatchObject({ text: '', files: ['log.out', 'replica_0.err'] });
    // A late answer for the file the person left is dropped.
    state.addLogChunk({ ...chunk, text: 'stale', next_cursor: 99 });
    expect(state.log?.text).toBe('');
  });
});
