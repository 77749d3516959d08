import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SlurmCliScheduler } from '../../src/scheduler/slurm/backend.js';
import {
  FIELD_SEPARATOR,
  parseKeyValueLine,
  parsePartitions,
  parseReservations,
  parseSacctOutput,
  parseSbatchJobId,
  parseScontrolJobs,
  parseSlurmTime,
  parseSqueueOutput,
  SACCT_FIELDS,
  SQUEUE_FORMAT,
} from '../../src/scheduler/slurm/parse.js';
import type { ClusterRunner } from '../../src/scheduler/slurm/runner.js';

/** Output captured from the local SLURM 22.05.8 cluster of test/cluster (SLURM_TIME_FORMAT=standard). */
function fixture(name: string): string {
  return readFileSync(new URL(`./slurm-fixtures/${name}`, import.meta.url), 'utf8');
}

describe('squeue output', () => {
  it('uses the unit separator between the fields the backend reads', () => {
    expect(SQUEUE_FORMAT.split(FIELD_SEPARATOR)).toEqual([
      '%i',
      '%T',
      '%r',
      '%j',
      '%k',
      '%u',
      '%a',
      '%P',
      '%V',
      '%S',
      '%e',
      '%l',
      '%N',
    ]);
  });

  it('reads running, completed, failed and cancelled jobs with ISO times and expanded nodes', () => {
    const jobs = new Map(parseSqueueOutput(fixture('squeue-mixed.txt')).map((job) => [job.jobId, job]));
    expect(jobs.size).toBe(8);
    expect(jobs.get('7')).toEqual({
      jobId: '7',
      state: 'COMPLETED',
      rawState: 'COMPLETED',
      name: 'cap-test',
      comment: 'sml:cap-1',
      user: 'root',
      account: 'sml-test',
      partition: 'normal',
      submitTime: '2026-11-28T01:48:53',
      startTime: '2026-11-28T01:48:53',
      endTime: '2026-11-28T01:49:09',
      timeLimit: '5:00',
      nodes: ['n1', 'n2'],
    });
    expect(jobs.get('8')?.name).toBe('name with space');
    expect(jobs.get('8')?.nodes).toEqual(['n1', 'n2', 'n3', 'n4']);
    // A `|` in a comment does not split fields.
    expect(jobs.get('9')?.comment).toBe('pending|pipe');
    expect(jobs.get('4')).toMatchObject({ state: 'FAILED', reason: 'NonZeroExitCode', nodes: ['n1'] });
    // A job cancelled while held: no nodes, comment "(null)" means none.
    const cancelled = jobs.get('6')!;
    expect(cancelled.state).toBe('CANCELLED');
    expect(cancelled.nodes).toBeUndefined();
    expect(cancelled.comment).toBeUndefined();
  });

  it('reads pending jobs: reason kept, N/A and empty node lists dropped', () => {
    const [resources, begin] = parseSqueueOutput(fixture('squeue-pending.txt'));
    expect(resources).toMatchObject({
      jobId: '10',
      state: 'PENDING',
      reason: 'Resources',
      comment: 'sml:cap-3',
    });
    expect(resources!.nodes).toBeUndefined();
    expect(begin).toMatchObject({ jobId: '11', state: 'PENDING', reason: 'BeginTime' });
  });

  it('drops reason None and rejects a line with missing fields', () => {
    const line = ['1', 'RUNNING', 'None', 'x', '(null)', 'u', 'a', 'p', 'N/A', 'N/A', 'N/A', '1:00', 'n1'];
    expect(parseSqueueOutput(line.join(FIELD_SEPARATOR))[0]!.reason).toBeUndefined();
    expect(() => parseSqueueOutput('1\x1fRUNNING')).toThrow(/Cannot read a line of squeue output/);
  });
});

describe('sacct output', () => {
  it('lists the fields SLURM 22.05 sacct knows', () => {
    expect(SACCT_FIELDS).toContain('Reason');
    expect(SACCT_FIELDS).toContain('Comment');
    expect(SACCT_FIELDS).toContain('ExitCode');
  });

  it('reads ended jobs with exit codes, `CANCELLED by 0` and placeholders', () => {
    const jobs = new Map(parseSacctOutput(fixture('sacct-mixed.txt')).map((job) => [job.jobId, job]));
    expect(jobs.size).toBe(11);
    expect(jobs.get('4')).toMatchObject({
      state: 'FAILED',
      exitCode: '3:0',
      nodes: ['n1'],
      timeLimit: '00:01:00',
    });
    expect(jobs.get('6')).toMatchObject({
      state: 'CANCELLED',
      rawState: 'CANCELLED by 0',
      reason: 'JobHeldUser',
    });
    expect(jobs.get('6')!.nodes).toBeUndefined();
    expect(jobs.get('1')).toMatchObject({
      state: 'COMPLETED',
      nodes: ['n1', 'n2', 'n3', 'n4'],
      exitCode: '0:0',
    });
    // A pending job: start and end are "Unknown".
    const pending = jobs.get('11')!;
    expect(pending.state).toBe('PENDING');
    expect(pending.startTime).toBeUndefined();
    expect(pending.endTime).toBeUndefined();
    expect(pending.submitTime).toBe('2026-11-28T01:48:59');
  });

  it('keeps the last record when a job appears twice (requeue)', () => {
    const first = ['5', 'REQUEUED', 'None', 'j', '', 'u', 'a', 'p', '', '', '', '', '', '0:0'].join(
      FIELD_SEPARATOR,
    );
    const second = ['5', 'RUNNING', 'None', 'j', '', 'u', 'a', 'p', '', '', '', '', 'n2', '0:0'].join(
      FIELD_SEPARATOR,
    );
    expect(parseSacctOutput(`${first}\n${second}\n`)).toMatchObject([
      { jobId: '5', state: 'RUNNING', nodes: ['n2'] },
    ]);
  });
});

describe('a job id that accounting holds twice (a controller that lost its state reuses ids)', () => {
  const record = (state: string, name: string, submit: string, nodes = '') =>
    ['7', state, 'None', name, '', 'root', 'a', 'normal', submit, '', '', '', nodes, '0:0'].join(
      FIELD_SEPARATOR,
    );

  it('sacct: the newest submission wins, whatever the line order', () => {
    const older = record('COMPLETED', 'old', '2026-11-20T10:00:00', 'n1');
    const newer = record('RUNNING', 'new', '2026-11-28T10:00:00', 'n2');
    expect(parseSacctOutput(`${newer}\n${older}\n`)).toMatchObject([{ name: 'new', nodes: ['n2'] }]);
    expect(parseSacctOutput(`${older}\n${newer}\n`)).toMatchObject([{ name: 'new', nodes: ['n2'] }]);
  });

  it("statuses: an older accounting record does not overwrite squeue's job", async () => {
    const squeueLine = ['7', 'COMPLETED', 'None', 'new', 'tag', 'root', 'a', 'normal']
      .concat(['2026-11-28T10:00:00', '2026-11-28T10:00:01', '2026-11-28T10:00:09', '5:00', 'n2'])
      .join(FIELD_SEPARATOR);
    // slurmdbd has not recorded the new job yet: sacct only knows the old one.
    const sacctLine = record('FAILED', 'old', '2026-11-20T10:00:00', 'n1').replace(/0:0$/, '3:0');
    const answers: Record<string, string> = { squeue: squeueLine, sacct: sacctLine };
    const runner: ClusterRunner = {
      kind: 'local',
      target: 'a scripted cluster',
      run: async (argv) => ({ exitCode: 0, stdout: Buffer.from(`${answers[argv[0]!] ?? ''}\n`), stderr: '' }),
      readRange: async () => ({ data: Buffer.alloc(0), size: 0 }),
      fileSize: async () => undefined,
      writeFile: async () => {},
      mkdir: async () => {},
    };
    const job = (await new SlurmCliScheduler(runner).statuses(['7'])).get('7');
    expect(job).toMatchObject({ name: 'new', state: 'COMPLETED', nodes: ['n2'] });
    expect(job?.exitCode).toBeUndefined();
  });
});

describe('a controller that does not answer (slurmctld restarting or down)', () => {
  const sacctLine = ['7', 'RUNNING', 'None', 'job', 'tag', 'root', 'a', 'normal']
    .concat(['2026-11-28T10:00:00', '2026-11-28T10:00:01', '', '5:00', 'n2', '0:0'])
    .join(FIELD_SEPARATOR);
  const CONNECT_FAILURE = 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n';

  /** squeue answers `squeueStderr` (exit 1) when given; sacct answers `sacct`, or fails. */
  function cluster(squeueStderr: string, sacct: { stdout: string } | { stderr: string }): SlurmCliScheduler {
    const runner: ClusterRunner = {
      kind: 'local',
      target: 'a scripted cluster',
      run: async (argv) => {
        if (argv[0] === 'squeue') return { exitCode: 1, stdout: Buffer.alloc(0), stderr: squeueStderr };
        if ('stdout' in sacct) return { exitCode: 0, stdout: Buffer.from(`${sacct.stdout}\n`), stderr: '' };
        return { exitCode: 1, stdout: Buffer.alloc(0), stderr: sacct.stderr };
      },
      readRange: async () => ({ data: Buffer.alloc(0), size: 0 }),
      fileSize: async () => undefined,
      writeFile: async () => {},
      mkdir: async () => {},
    };
    return new SlurmCliScheduler(runner);
  }

  it('statuses come from accounting, each with a note saying so', async () => {
    const job = (await cluster(CONNECT_FAILURE, { stdout: sacctLine }).statuses(['7'])).get('7');
    expect(job).toMatchObject({ jobId: '7', state: 'RUNNING', nodes: ['n2'] });
    expect(job?.note).toMatch(/controller \(slurmctld\) is not answering.*from accounting.*connect failure/);
  });

  it('with accounting unreachable too, the answer is the controller failure', async () => {
    const failing = cluster(CONNECT_FAILURE, { stderr: 'sacct: error: Problem talking to the database\n' });
    await expect(failing.statuses(['7'])).rejects.toMatchObject({
      code: 'SCHEDULER_UNREACHABLE',
      message: expect.stringMatching(/squeue on a scripted cluster cannot reach the SLURM controller/),
    });
  });

  it('any other squeue failure is not papered over with accounting', async () => {
    const refusing = cluster('squeue: error: Invalid user for SlurmUser\n', { stdout: sacctLine });
    await expect(refusing.statuses(['7'])).rejects.toMatchObject({ code: 'SCHEDULER_ERROR' });
  });
});

describe('scontrol output', () => {
  it('splits key=value pairs and keeps values with spaces', () => {
    const record = parseKeyValueLine(
      'JobId=8 JobName=name with space UserId=root(0) TRES=cpu=4,node=4 Comment=x  StdErr=/a b',
    );
    expect(record).toMatchObject({
      JobId: '8',
      JobName: 'name with space',
      UserId: 'root(0)',
      TRES: 'cpu=4,node=4',
      Comment: 'x',
      StdErr: '/a b',
    });
  });

  it('reads every job of `scontrol -o show job`', () => {
    const jobs = new Map(parseScontrolJobs(fixture('scontrol-all.txt')).map((job) => [job.jobId, job]));
    expect([...jobs.keys()]).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']);
    expect(jobs.get('4')).toMatchObject({
      state: 'FAILED',
      reason: 'NonZeroExitCode',
      exitCode: '3:0',
      user: 'root',
      account: 'sml-test',
      comment: 'x',
      nodes: ['n1'],
      timeLimit: '00:01:00',
      startTime: '2026-11-28T01:48:28',
    });
    expect(jobs.get('8')).toMatchObject({ name: 'name with space', comment: 'sml:cap-2' });
    expect(jobs.get('11')).toMatchObject({ state: 'CANCELLED' });
    expect(jobs.get('11')!.nodes).toBeUndefined();
  });

  it('names array tasks parent_task, as squeue and sacct do', () => {
    const ids = parseScontrolJobs(fixture('scontrol-array.txt')).map((job) => job.jobId);
    expect(ids.sort()).toEqual(['12_1', '12_2']);
  });

  it('reads pending jobs without nodes', () => {
    const [resources] = parseScontrolJobs(fixture('scontrol-pending.txt'));
    expect(resources).toMatchObject({ jobId: '10', state: 'PENDING', reason: 'Resources' });
    expect(resources!.nodes).toBeUndefined();
  });

  it('reads partitions: default flag, state, MaxTime, nodes', () => {
    expect(parsePartitions(fixture('partitions.txt'))).toEqual([
      { name: 'normal', isDefault: true, state: 'UP', maxTime: '1-00:00:00', totalNodes: 4, nodes: 'n[1-4]' },
      { name: 'debug', isDefault: false, state: 'UP', maxTime: '00:30:00', totalNodes: 4, nodes: 'n[1-4]' },
    ]);
    expect(parsePartitions('No partitions in the system\n')).toEqual([]);
  });

  it('reads reservations, and none', () => {
    expect(parseReservations(fixture('reservations.txt'))).toEqual([
      {
        name: 'sml-maint',
        state: 'INACTIVE',
        startTime: '2026-12-05T00:00:00',
        endTime: '2026-12-05T04:00:00',
        nodes: 'n4',
        users: ['root'],
      },
    ]);
    expect(parseReservations('No reservations in the system\n')).toEqual([]);
  });
});

describe('small parsers', () => {
  it('reads the job id of sbatch --parsable', () => {
    expect(parseSbatchJobId('42\n')).toBe('42');
    expect(parseSbatchJobId('42;cluster-a\n')).toBe('42');
    expect(parseSbatchJobId('')).toBeUndefined();
    expect(parseSbatchJobId('Submitted batch job 42\n')).toBeUndefined();
  });

  it('accepts ISO times only', () => {
    expect(parseSlurmTime('2026-11-28T01:48:53')).toBe('2026-11-28T01:48:53');
    for (const placeholder of ['Unknown', 'N/A', 'None', '(null)', '', 'Tomorr 10:00']) {
      expect(parseSlurmTime(placeholder), placeholder).toBeUndefined();
    }
  });
});
