/**
 * Pure parsers for what the SLURM CLI prints (SLURM 22.05 and later, SLURM_TIME_FORMAT=standard).
 * Each takes the command's stdout and returns the backend-neutral shapes of scheduler.ts.
 */
import { SmlError } from '../../errors.js';
import { expandHostlist } from '../hostlist.js';
import { type JobInfo, type Partition, parseSlurmState, type Reservation } from '../scheduler.js';

/** Field separator for squeue and sacct output: the ASCII unit separator never occurs in names or comments. */
export const FIELD_SEPARATOR = '\x1f';

/** squeue fields, in the order `parseSqueueOutput` reads them. */
const SQUEUE_FIELDS = {
  jobId: '%i',
  state: '%T',
  reason: '%r',
  name: '%j',
  comment: '%k',
  user: '%u',
  account: '%a',
  partition: '%P',
  submitTime: '%V',
  startTime: '%S',
  endTime: '%e',
  timeLimit: '%l',
  nodes: '%N',
} as const;

/** The `-o` format given to squeue. */
export const SQUEUE_FORMAT = Object.values(SQUEUE_FIELDS).join(FIELD_SEPARATOR);

/** sacct fields (`-o`), in the order `parseSacctOutput` reads them; all exist in SLURM 22.05. */
export const SACCT_FIELDS = [
  'JobID',
  'State',
  'Reason',
  'JobName',
  'Comment',
  'User',
  'Account',
  'Partition',
  'Submit',
  'Start',
  'End',
  'Timelimit',
  'NodeList',
  'ExitCode',
] as const;

/** Values SLURM prints for "nothing here". */
const PLACEHOLDERS = new Set(['', '(null)', 'N/A', 'n/a', 'None', 'Unknown', 'None assigned', '(None)']);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

/** A field value, or undefined for SLURM's placeholders. */
export function optionalValue(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  return value === undefined || PLACEHOLDERS.has(value) ? undefined : value;
}

/** An ISO time as SLURM prints it with SLURM_TIME_FORMAT=standard; placeholders and other formats → undefined. */
export function parseSlurmTime(raw: string | undefined): string | undefined {
  const value = optionalValue(raw);
  return value !== undefined && ISO_TIME.test(value) ? value : undefined;
}

function nodeList(raw: string | undefined): string[] | undefined {
  const value = optionalValue(raw);
  if (value === undefined) return undefined;
  const hosts = expandHostlist(value);
  return hosts.length > 0 ? hosts : undefined;
}

/** Drop undefined members so results compare and serialise cleanly. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

function lines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.trim() !== '');
}

/** Lines of `squeue -h -o SQUEUE_FORMAT`. */
export function parseSqueueOutput(stdout: string): JobInfo[] {
  const count = Object.keys(SQUEUE_FIELDS).length;
  return lines(stdout).map((line) => jobFromFields(line, 'squeue', count));
}

/**
 * Lines of `sacct -X -n -P --delimiter=FIELD_SEPARATOR -o SACCT_FIELDS`. Accounting can hold several
 * jobs under one id (a controller that lost its state restarts its ids): the newest submission wins.
 */
export function parseSacctOutput(stdout: string): JobInfo[] {
  const byId = new Map<string, JobInfo>();
  for (const line of lines(stdout)) {
    const job = jobFromFields(line, 'sacct', SACCT_FIELDS.length);
    const known = byId.get(job.jobId);
    if (!known || (job.submitTime ?? '') >= (known.submitTime ?? '')) byId.set(job.jobId, job);
  }
  return [...byId.values()];
}

/** squeue's format and sacct's fields share one order; sacct adds the exit code at the end. */
function jobFromFields(line: string, program: 'squeue' | 'sacct', count: number): JobInfo {
  const fields = line.split(FIELD_SEPARATOR);
  if (fields.length < count) throw unreadable(program, line);
  const [
    jobId,
    state,
    reason,
    name,
    comment,
    user,
    account,
    partition,
    submit,
    start,
    end,
    limit,
    nodes,
    exit,
  ] = fields;
  const rawState = state!.trim();
  return compact({
    jobId: jobId!.trim(),
    state: parseSlurmState(rawState),
    rawState,
    reason: optionalValue(reason),
    name: optionalValue(name),
    comment: optionalValue(comment),
    user: optionalValue(user),
    account: optionalValue(account),
    partition: optionalValue(partition),
    submitTime: parseSlurmTime(submit),
    startTime: parseSlurmTime(start),
    endTime: parseSlurmTime(end),
    timeLimit: optionalValue(limit),
    nodes: nodeList(nodes),
    exitCode: program === 'sacct' ? optionalValue(exit) : undefined,
  });
}

/**
 * One `scontrol --oneliner` record as key/value pairs. A value runs until the next ` Key=`,
 * so values with spaces (job names, comments) survive unless they contain ` Word=` themselves.
 */
export function parseKeyValueLine(line: string): Record<string, string> {
  const record: Record<string, string> = {};
  const keyPattern = /(?:^|\s+)([A-Za-z][A-Za-z0-9_:/.]*)=/g;
  const matches = [...line.matchAll(keyPattern)];
  for (const [index, match] of matches.entries()) {
    const valueStart = match.index + match[0].length;
    const valueEnd = matches[index + 1]?.index ?? line.length;
    record[match[1]!] = line.slice(valueStart, valueEnd).trim();
  }
  return record;
}

/** `scontrol -o show job` (all jobs the controller still holds), one JobInfo per job. */
export function parseScontrolJobs(stdout: string): JobInfo[] {
  const jobs: JobInfo[] = [];
  for (const line of lines(stdout)) {
    if (line.startsWith('No jobs in the system')) continue;
    const record = parseKeyValueLine(line);
    const jobId = record.JobId;
    if (jobId === undefined) throw unreadable('scontrol show job', line);
    // Array tasks print JobId=<raw id> ArrayJobId=<parent> ArrayTaskId=<n>; squeue and sacct call them parent_n.
    const arrayTask = record.ArrayTaskId;
    const id =
      record.ArrayJobId && arrayTask && /^\d+$/.test(arrayTask) ? `${record.ArrayJobId}_${arrayTask}` : jobId;
    const rawState = record.JobState ?? 'UNKNOWN';
    jobs.push(
      compact({
        jobId: id,
        state: parseSlurmState(rawState),
        rawState,
        reason: optionalValue(record.Reason),
        name: optionalValue(record.JobName),
        comment: optionalValue(record.Comment),
        user: optionalValue(record.UserId?.replace(/\(\d+\)$/, '')),
        account: optionalValue(record.Account),
        partition: optionalValue(record.Partition),
        submitTime: parseSlurmTime(record.SubmitTime),
        startTime: parseSlurmTime(record.StartTime),
        endTime: parseSlurmTime(record.EndTime),
        timeLimit: optionalValue(record.TimeLimit),
        nodes: nodeList(record.NodeList),
        exitCode: optionalValue(record.ExitCode),
      }),
    );
  }
  return jobs;
}

/** `scontrol show partition --oneliner`. */
export function parsePartitions(stdout: string): Partition[] {
  const partitions: Partition[] = [];
  for (const line of lines(stdout)) {
    if (line.startsWith('No partitions in the system')) continue;
    const record = parseKeyValueLine(line);
    if (record.PartitionName === undefined) throw unreadable('scontrol show partition', line);
    const totalNodes = Number(record.TotalNodes);
    const partition: Partition = { name: record.PartitionName, isDefault: record.Default === 'YES' };
    const state = optionalValue(record.State);
    const maxTime = optionalValue(record.MaxTime);
    const nodes = optionalValue(record.Nodes);
    if (state !== undefined) partition.state = state;
    if (maxTime !== undefined) partition.maxTime = maxTime;
    if (record.TotalNodes !== undefined && Number.isInteger(totalNodes)) partition.totalNodes = totalNodes;
    if (nodes !== undefined) partition.nodes = nodes;
    partitions.push(partition);
  }
  return partitions;
}

function list(raw: string | undefined): string[] | undefined {
  const value = optionalValue(raw);
  return value === undefined ? undefined : value.split(',').filter((item) => item !== '');
}

/** `scontrol show reservation --oneliner`; "No reservations in the system" gives []. */
export function parseReservations(stdout: string): Reservation[] {
  const reservations: Reservation[] = [];
  for (const line of lines(stdout)) {
    if (line.startsWith('No reservations in the system')) continue;
    const record = parseKeyValueLine(line);
    if (record.ReservationName === undefined) throw unreadable('scontrol show reservation', line);
    const reservation: Reservation = {
      name: record.ReservationName,
      state: optionalValue(record.State),
      startTime: parseSlurmTime(record.StartTime),
      endTime: parseSlurmTime(record.EndTime),
      nodes: optionalValue(record.Nodes),
      partition: optionalValue(record.PartitionName),
      users: list(record.Users),
      accounts: list(record.Accounts),
    };
    reservations.push(compact<Reservation>(reservation));
  }
  return reservations;
}

/** The job id printed by `sbatch --parsable` (`123` or `123;cluster`). */
export function parseSbatchJobId(stdout: string): string | undefined {
  const last = lines(stdout).at(-1)?.trim();
  const id = last?.split(';', 1)[0];
  return id !== undefined && /^\d+$/.test(id) ? id : undefined;
}

function unreadable(command: string, line: string): SmlError {
  return new SmlError(
    'SCHEDULER_ERROR',
    `Cannot read a line of ${command} output: "${line.slice(0, 200)}".`,
    {
      hint: 'sml-mcp expects SLURM 22.05 or later; report the SLURM version if this persists.',
    },
  );
}
