import { describe, expect, it } from 'vitest';
import { SmlError } from '../../src/errors.js';
import type { SubmitRequest } from '../../src/scheduler/scheduler.js';
import { InMemoryScheduler, type JobProgram } from '../doubles/scheduler/index.js';
import { eventually } from '../mcp/harness.js';

/** The in-memory scheduler keeps the Scheduler contract the way the SLURM backend does on the cluster. */

function request(directives: string[], tag = 'sml-mcp:t1:0'): SubmitRequest {
  return {
    script: [
      '#!/bin/bash',
      ...directives.map((d) => `#SBATCH ${d}`),
      `#SBATCH --comment=${tag}`,
      'echo hi',
      '',
    ].join('\n'),
    scriptPath: '/root/.sml/job.sh',
    workingDir: '/root/.sml',
    tag,
  };
}

async function stateOf(scheduler: InMemoryScheduler, jobId: string): Promise<string | undefined> {
  return (await scheduler.statuses([jobId])).get(jobId)?.state;
}

describe('InMemoryScheduler', () => {
  it('queues a job PENDING, starts it on whole nodes and keeps it in accounting with its exit code', async () => {
    const scheduler = new InMemoryScheduler();
    let finish!: (code: number) => void;
    scheduler.programs.set('sml-mcp:t1:0', (run) => {
      run.append(`${run.logDir}/log.out`, 'hello\n');
      return new Promise((resolve) => {
        finish = resolve;
      });
    });
    const { jobId } = await scheduler.submit(
      request(['--nodes=2', '--job-name=sml_x', '--output=out-%j.log']),
    );
    expect(await stateOf(scheduler, jobId)).toBe('PENDING');
    await eventually(async () => ((await stateOf(scheduler, jobId)) === 'RUNNING' ? true : undefined));
    const running = (await scheduler.statuses([jobId])).get(jobId)!;
    expect(running).toMatchObject({
      name: 'sml_x',
      partition: 'normal',
      nodes: ['n1', 'n2'],
      comment: 'sml-mcp:t1:0',
    });
    expect(running.exitCode).toBeUndefined();
    expect(await scheduler.fileSize(`/root/.sml/out-${jobId}.log`)).toBe(0);
    const log = await scheduler.readFile(`/root/.sml/logs/${jobId}/log.out`, 2, 100);
    expect(log).toEqual({ data: Buffer.from('llo\n'), size: 6 });
    finish(3);
    await eventually(async () => ((await stateOf(scheduler, jobId)) === 'FAILED' ? true : undefined));
    expect((await scheduler.statuses([jobId])).get(jobId)).toMatchObject({ exitCode: '3:0' });
    expect(await scheduler.cancel(jobId)).toMatchObject({ jobId, alreadyEnded: true });
    scheduler.forget(jobId);
    expect((await scheduler.statuses([jobId])).size).toBe(0);
  });

  it('makes a job wait for Resources while its nodes are taken, and runs it once they free up', async () => {
    const scheduler = new InMemoryScheduler();
    const big = (await scheduler.submit(request(['--nodes=3'], 'a'))).jobId;
    const second = (await scheduler.submit(request(['--nodes=2'], 'b'))).jobId;
    await eventually(async () => ((await stateOf(scheduler, big)) === 'RUNNING' ? true : undefined));
    expect((await scheduler.statuses([second])).get(second)).toMatchObject({
      state: 'PENDING',
      reason: 'Resources',
    });
    await scheduler.cancel(big);
    await eventually(async () => ((await stateOf(scheduler, second)) === 'RUNNING' ? true : undefined));
    expect((await scheduler.statuses([big])).get(big)).toMatchObject({
      state: 'CANCELLED',
      rawState: 'CANCELLED by 0',
    });
    scheduler.shutdown();
  });

  it('refuses what sbatch refuses: unknown partition or reservation, a time over the limit, too many nodes', async () => {
    const scheduler = new InMemoryScheduler();
    for (const [directive, message] of [
      ['--partition=gpu', /invalid partition specified: gpu/],
      ['--reservation=none', /reservation is invalid/],
      ['--time=01:00:00 --partition=debug', /time limit is invalid/],
      ['--nodes=5', /node configuration is not available/],
    ] as const) {
      await expect(scheduler.submit(request(directive.split(' ')))).rejects.toMatchObject({
        code: 'SUBMIT_FAILED',
        message: expect.stringMatching(message),
      });
    }
    expect(scheduler.jobIds()).toEqual([]);
  });

  it('holds a chain successor until its predecessor starts', async () => {
    const scheduler = new InMemoryScheduler();
    scheduler.isQueueHeld = true;
    const first = (await scheduler.submit(request(['--begin=now']))).jobId;
    const next = (await scheduler.submit(request([`--dependency=after:${first}+5`], 'b'))).jobId;
    expect((await scheduler.statuses([next])).get(next)).toMatchObject({
      state: 'PENDING',
      reason: 'Dependency',
    });
    scheduler.start(first);
    scheduler.releaseQueue();
    await eventually(async () => ((await stateOf(scheduler, next)) === 'RUNNING' ? true : undefined));
    scheduler.shutdown();
  });

  it('answers status in one sweep, finds tagged jobs of the user only, and refuses foreign cancels', async () => {
    const scheduler = new InMemoryScheduler();
    const mine = (await scheduler.submit(request([], 'sml-mcp:mine:0'))).jobId;
    const foreign = scheduler.addForeignJob('alice', { comment: 'sml-mcp:hers:0' });
    const before = scheduler.calls.length;
    const infos = await scheduler.statuses([mine, foreign, '999999']);
    expect([...infos.keys()].sort()).toEqual([mine, foreign].sort());
    expect(scheduler.calls.slice(before).map((c) => c.method)).toEqual(['statuses']);
    expect((await scheduler.findTaggedJobs('sml-mcp:')).map((j) => j.jobId)).toEqual([mine]);
    await expect(scheduler.cancel(foreign)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(scheduler.cancel('999999')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(scheduler.statuses(['12; rm'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    scheduler.shutdown();
  });

  it('keeps files with sizes and offsets; a missing file is NOT_FOUND; relative paths are refused', async () => {
    const scheduler = new InMemoryScheduler();
    await scheduler.writeFile('/a/b/c.txt', 'héllo');
    expect(await scheduler.fileSize('/a/b/c.txt')).toBe(6);
    expect((await scheduler.readFile('/a/b/c.txt', 10, 5)).data.length).toBe(0);
    expect(await scheduler.fileSize('/a/b/missing')).toBeUndefined();
    await expect(scheduler.readFile('/a/b/missing', 0, 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(scheduler.writeFile('rel/path', 'x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await scheduler.workingDir()).toBe('/root/.sml');
  });

  it('fails, hangs and loses answers on request', async () => {
    const scheduler = new InMemoryScheduler();
    scheduler.failNext('statuses', new SmlError('SCHEDULER_ERROR', 'squeue broke'), 1);
    await expect(scheduler.statuses([])).rejects.toMatchObject({ code: 'SCHEDULER_ERROR' });
    expect((await scheduler.statuses([])).size).toBe(0);

    scheduler.hangNext('partitions');
    const controller = new AbortController();
    const hanging = scheduler.partitions({ signal: controller.signal });
    controller.abort();
    await expect(hanging).rejects.toMatchObject({ code: 'CANCELLED' });

    scheduler.setUnreachable(true);
    await expect(scheduler.whoami()).rejects.toMatchObject({ code: 'SCHEDULER_UNREACHABLE' });
    scheduler.setUnreachable(false);

    scheduler.loseSubmitAnswers(1);
    const { jobId } = await scheduler.submit(request([], 'sml-mcp:lost:0'));
    expect(scheduler.job(jobId).comment).toBe('sml-mcp:lost:0');
    scheduler.loseSubmitAnswers(1, { isQueued: false });
    await expect(scheduler.submit(request([], 'sml-mcp:never:0'))).rejects.toSatisfy(
      (error: SmlError) => error.code === 'SUBMIT_FAILED' && error.isAmbiguous,
    );
    expect(scheduler.jobIds()).toEqual([jobId]);
    scheduler.shutdown();
  });

  it('ends a job from outside with the state SLURM reports, stopping its program', async () => {
    const scheduler = new InMemoryScheduler();
    let wasStopped = false;
    const program: JobProgram = async (run) => {
      await run.sleep(60_000).catch(() => {
        wasStopped = true;
      });
      return 0;
    };
    scheduler.defaultProgram = program;
    const { jobId } = await scheduler.submit(request([]));
    await eventually(async () => ((await stateOf(scheduler, jobId)) === 'RUNNING' ? true : undefined));
    scheduler.end(jobId, 'NODE_FAIL');
    await eventually(async () => (wasStopped ? true : undefined));
    expect((await scheduler.statuses([jobId])).get(jobId)).toMatchObject({
      state: 'NODE_FAIL',
      exitCode: '1:0',
    });
  });
});
