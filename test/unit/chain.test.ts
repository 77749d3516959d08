import { describe, expect, it } from 'vitest';
import { chainDirectives, describeChainStart, planChain, planChainOffsets } from '../../src/domain/chain.js';

const H = 3600;

describe('planChain', () => {
  it("plans SML's 36 h / 12 h / 3 h example as 4 jobs of 12+12+12+9 h", () => {
    const plan = planChain({
      totalSeconds: 36 * H,
      maxJobSeconds: 12 * H,
      handoverSeconds: 3 * H,
      isConsecutive: true,
    });
    expect(plan.jobs.map((j) => j.timeLimit)).toEqual(['12:00:00', '12:00:00', '12:00:00', '09:00:00']);
    expect(plan.jobs.map((j) => j.offsetSeconds / H)).toEqual([0, 9, 18, 27]);
    expect(plan.intervalSeconds).toBe(9 * H);
    expect(plan.jobs.map((j) => j.dependencyDelayMinutes)).toEqual([undefined, 540, 540, 540]);
    expect(plan.jobs.every((j) => j.chainLength === 4)).toBe(true);
  });

  it('is a single job when the time fits, with a warning if a chain was asked', () => {
    const plan = planChain({
      totalSeconds: 2 * H,
      maxJobSeconds: 12 * H,
      handoverSeconds: 3 * H,
      isConsecutive: true,
    });
    expect(plan.jobs).toHaveLength(1);
    expect(plan.jobs[0]!.timeLimit).toBe('02:00:00');
    expect(plan.warnings[0]).toMatch(/consecutive ignored/);
  });

  it('refuses a time above the cap without consecutive, naming both', () => {
    expect(() =>
      planChain({
        totalSeconds: 13 * H,
        maxJobSeconds: 12 * H,
        handoverSeconds: 3 * H,
        isConsecutive: false,
      }),
    ).toThrow(/time \(13:00:00\) exceeds the per-job cap \(max_job_time 12:00:00\)/);
  });

  it('refuses a handover not shorter than the cap', () => {
    expect(() => planChainOffsets(36 * H, 12 * H, 12 * H)).toThrow(
      /handover_time \(12:00:00\) must be shorter/,
    );
  });

  it('never trims the last job to zero and rounds to whole minutes', () => {
    // Without handover, 24 h + 30 s leaves 30 s for the third job; SLURM needs at least a minute.
    const plan = planChain({
      totalSeconds: 24 * H + 30,
      maxJobSeconds: 12 * H,
      handoverSeconds: 0,
      isConsecutive: true,
    });
    expect(plan.jobs.map((j) => j.timeLimit)).toEqual(['12:00:00', '12:00:00', '00:01:00']);
    for (const job of plan.jobs) expect(job.timeLimitSeconds % 60).toBe(0);
    const exact = planChain({
      totalSeconds: 21 * H,
      maxJobSeconds: 12 * H,
      handoverSeconds: 3 * H,
      isConsecutive: true,
    });
    expect(exact.jobs.map((j) => j.timeLimit)).toEqual(['12:00:00', '12:00:00']);
  });

  it('starts the head now (cluster time) and successors after their predecessor starts', () => {
    const plan = planChain({
      totalSeconds: 20 * H,
      maxJobSeconds: 12 * H,
      handoverSeconds: 90 * 60,
      isConsecutive: true,
    });
    expect(chainDirectives(plan.jobs[0]!)).toEqual({ begin: 'now' });
    expect(chainDirectives(plan.jobs[1]!, '4242')).toEqual({ dependency: 'after:4242+630' });
    expect(describeChainStart(plan.jobs[1]!, '4242')).toBe('10h30m after 4242 starts');
    expect(() => chainDirectives(plan.jobs[1]!)).toThrow(/predecessor/);
    const single = planChain({
      totalSeconds: H,
      maxJobSeconds: 12 * H,
      handoverSeconds: 3 * H,
      isConsecutive: false,
    });
    expect(chainDirectives(single.jobs[0]!)).toEqual({});
  });
});
