import { execa } from 'execa';
import { HttpFailure } from './http.js';

/**
 * The double's SLURM side: the same commands FirecREST runs over SSH in "ssh mode" (sbatch with
 * the script on stdin, sacct + squeue merged, scancel --verbose), run on the local test cluster.
 */

export interface SlurmOptions {
  /** Environment of every SLURM command (the cluster's SLURM_CONF and friends). */
  env: NodeJS.ProcessEnv;
  /** Limit of one command; past it the answer is 408 like FirecREST's `timeout` wrapper. */
  commandTimeoutMs: number;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface JobObject {
  jobId: string;
  name: string;
  status: {
    state: string;
    stateReason: string | null;
    exitCode: number | null;
    interruptSignal: number | null;
  };
  tasks: unknown[];
  time: {
    elapsed: number | null;
    start: number | null;
    end: number | null;
    suspended: number | null;
    limit: number | null;
  };
  account: string | null;
  allocationNodes: number;
  cluster: string;
  group: string | null;
  nodes: string;
  partition: string;
  killRequestUser: null;
  user: string | null;
  workingDirectory: string;
  priority: number | null;
}

export interface SubmitOptions {
  script?: string;
  scriptPath?: string;
  workingDirectory: string;
  name?: string;
  account?: string;
  partition?: string;
  reservation?: string;
  standardInput?: string;
  standardOutput?: string;
  standardError?: string;
  constraints?: string;
  env: Record<string, string>;
}

export interface JobQuery {
  user?: string;
  jobId?: string;
  name?: string;
  account?: string;
  /** sacct `--starttime`, e.g. `now-24hours`. */
  since?: string;
}

const SEP = '|';
const SACCT_FIELDS = [
  'JobIDRaw',
  'JobName',
  'State',
  'Reason',
  'Start',
  'End',
  'ElapsedRaw',
  'TimelimitRaw',
  'NodeList',
  'Account',
  'Partition',
  'User',
  'Group',
  'WorkDir',
  'Priority',
  'ExitCode',
  'AllocNodes',
  'Cluster',
  'Suspended',
];
// %i id, %j name, %T state, %r reason, %S start, %e end, %l limit, %N nodes, %a account, %P partition,
// %u user, %g group, %Z workdir, %Q priority, %D node count, %M elapsed.
const SQUEUE_FORMAT = [
  '%i',
  '%j',
  '%T',
  '%r',
  '%S',
  '%e',
  '%l',
  '%N',
  '%a',
  '%P',
  '%u',
  '%g',
  '%Z',
  '%Q',
  '%D',
  '%M',
];
const QOS_LIMIT = /(QOS|Assoc)(Max|Min)\w*Limit/;

const ENDED_JOB_STATES = new Set([
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'OUT_OF_MEMORY',
  'BOOT_FAIL',
  'DEADLINE',
]);

export class SlurmCluster {
  constructor(private readonly options: SlurmOptions) {}

  async run(
    command: string,
    args: string[],
    input?: string,
    extraEnv: Record<string, string> = {},
  ): Promise<CommandResult> {
    const result = await execa(command, args, {
      env: { ...this.options.env, ...extraEnv, SLURM_TIME_FORMAT: '%s' },
      extendEnv: false,
      input,
      reject: false,
      timeout: this.options.commandTimeoutMs,
      stripFinalNewline: false,
    });
    if (result.timedOut) {
      throw new HttpFailure(408, 'Command execution timeout limit exceeded.');
    }
    if (result.failed && result.exitCode === undefined) {
      throw new HttpFailure(500, `Unable to run ${command}: ${result.shortMessage}`);
    }
    return {
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      exitCode: result.exitCode ?? 1,
    };
  }

  /** `sbatch`; returns the job id or throws the server's submit errors. */
  async submit(options: SubmitOptions, runEnv: Record<string, string>): Promise<string> {
    const args = [`--chdir=${options.workingDirectory}`];
    if (options.name) args.push(`--job-name=${options.name}`);
    if (options.account) args.push(`--account=${options.account}`);
    if (options.partition) args.push(`--partition=${options.partition}`);
    if (options.reservation) args.push(`--reservation=${options.reservation}`);
    if (options.standardInput) args.push(`--input=${options.standardInput}`);
    if (options.standardOutput) args.push(`--output=${options.standardOutput}`);
    if (options.standardError) args.push(`--error=${options.standardError}`);
    if (options.constraints) args.push(`--constraint=${options.constraints}`);
    // No escaping, like the server: a comma in a value corrupts the export list.
    args.push(`--export=${['ALL', ...Object.entries(options.env).map(([k, v]) => `${k}=${v}`)].join(',')}`);
    if (options.scriptPath) args.push('--', options.scriptPath);
    const result = await this.run(
      'sbatch',
      args,
      options.scriptPath ? undefined : (options.script ?? ''),
      runEnv,
    );
    // Only the exit status decides: sbatch may print `error:` lines and still queue the job (201).
    if (result.exitCode !== 0) {
      if (QOS_LIMIT.test(result.stderr)) {
        throw new HttpFailure(
          403,
          `Job submission rejected: accounting/QOS policy limit exceeded. ${result.stderr.trim()}`,
        );
      }
      throw new HttpFailure(
        500,
        `Unexpected Slurm command response. exit_status:${result.exitCode} std_err:${result.stderr}`,
      );
    }
    const id = /Submitted batch job (\d+)/.exec(result.stdout)?.[1];
    if (!id) throw new HttpFailure(500, 'Unable to submit new job');
    return id;
  }

  /** sacct and squeue, merged by job id the way the server does. */
  async jobs(query: JobQuery): Promise<JobObject[]> {
    const sacctArgs = ['-X', '-n', '-P', `--delimiter=${SEP}`, '-o', SACCT_FIELDS.join(',')];
    const squeueArgs = ['-h', '--states=all', '-o', SQUEUE_FORMAT.join(SEP)];
    if (query.jobId) {
      sacctArgs.push('-j', query.jobId);
      squeueArgs.push('-j', query.jobId);
    } else {
      sacctArgs.push('-S', query.since ?? 'now-24hours');
      if (query.user) {
        sacctArgs.push('-u', query.user);
        squeueArgs.push('-u', query.user);
      } else {
        sacctArgs.push('-a');
      }
    }
    if (query.name) {
      sacctArgs.push(`--name=${query.name}`);
      squeueArgs.push(`--name=${query.name}`);
    }
    if (query.account) {
      sacctArgs.push(`--accounts=${query.account}`);
      squeueArgs.push(`--account=${query.account}`);
    }
    const [sacct, squeue] = await Promise.all([this.run('sacct', sacctArgs), this.run('squeue', squeueArgs)]);
    const accountingDisabled = /accounting storage is disabled/i.test(sacct.stderr);
    // squeue -j answers "Invalid job id" for a job that left the queue: that is "not in the queue".
    const squeueFailed = squeue.exitCode !== 0 && !/Invalid job id/i.test(squeue.stderr);
    if ((sacct.exitCode !== 0 && !accountingDisabled) || squeueFailed) {
      const failed = squeueFailed ? squeue : sacct;
      throw new HttpFailure(500, 'Error executing Slurm command.', {
        causedBy: [
          `Unexpected Slurm command response. exit_status:${failed.exitCode} std_err:${failed.stderr}`,
        ],
      });
    }
    const cluster = this.options.env.SML_CLUSTER_NAME ?? 'cluster';
    const merged = new Map<string, JobObject>();
    if (!accountingDisabled) {
      for (const line of lines(sacct.stdout)) {
        const job = fromSacct(line.split(SEP));
        if (job) merged.set(job.jobId, job);
      }
    }
    for (const line of lines(squeue.stdout)) {
      const job = fromSqueue(line.split(SEP), cluster);
      if (!job) continue;
      const known = merged.get(job.jobId);
      if (!known || job.status.state === 'PENDING') merged.set(job.jobId, job);
    }
    // A job that just ended may be in squeue before slurmdbd recorded it; slurmrestd would still
    // give its exit code, so ask the controller for those.
    const withoutExitCode = [...merged.values()].filter(
      (job) => job.status.exitCode === null && ENDED_JOB_STATES.has(job.status.state),
    );
    await Promise.all(
      withoutExitCode.map(async (job) => {
        const shown = await this.run('scontrol', ['-o', 'show', 'job', job.jobId]);
        const exit = /\bExitCode=(\d+):(\d+)/.exec(shown.stdout);
        if (!exit) return;
        job.status.exitCode = Number(exit[1]);
        job.status.interruptSignal = Number(exit[2]);
      }),
    );
    return [...merged.values()];
  }

  /** `scancel --verbose`; any `error:` line makes it a 500 with the command's stderr. */
  async cancel(jobId: string): Promise<void> {
    const result = await this.run('scancel', ['--verbose', jobId]);
    if (result.exitCode !== 0 || /error:/.test(result.stderr)) {
      throw new HttpFailure(
        500,
        `Unexpected Slurm command response. exit_status:${result.exitCode} std_err:${result.stderr}`,
      );
    }
  }

  async partitions(
    showHidden: boolean,
  ): Promise<{ name: string; cpus: number; totalNodes: number; partition: string }[]> {
    const result = await this.run('scontrol', [...(showHidden ? ['-a'] : []), '-o', 'show', 'partition']);
    if (result.exitCode !== 0) throw statusFailure(result);
    return lines(result.stdout).map((line) => {
      const fields = keyValues(line);
      return {
        name: fields.PartitionName ?? '',
        cpus: Number(fields.TotalCPUs ?? 0),
        totalNodes: Number(fields.TotalNodes ?? 0),
        partition: fields.State ?? 'UNKNOWN',
      };
    });
  }

  async reservations(): Promise<
    {
      name: string;
      nodeList: string;
      startTime: number;
      endTime: number;
      features: string | null;
      state: string;
    }[]
  > {
    const result = await this.run('scontrol', ['-o', 'show', 'reservation']);
    if (/No reservations/i.test(result.stdout + result.stderr)) return [];
    if (result.exitCode !== 0) throw statusFailure(result);
    return lines(result.stdout).map((line) => {
      const fields = keyValues(line);
      const startTime = Number(fields.StartTime);
      const endTime = Number(fields.EndTime);
      const now = Date.now() / 1000;
      const state =
        fields.State?.toLowerCase() ?? (startTime <= now && now < endTime ? 'active' : 'inactive');
      return {
        name: fields.ReservationName ?? '',
        nodeList: fields.Nodes ?? '',
        startTime,
        endTime,
        features: fields.Features && fields.Features !== '(null)' ? fields.Features : null,
        state,
      };
    });
  }

  /** SLURM accounts of `user` with the default flagged; null when accounting knows none. */
  async accounts(user: string): Promise<{ name: string; default: boolean }[] | null> {
    const [assoc, defaults] = await Promise.all([
      this.run('sacctmgr', ['-nP', 'show', 'assoc', `user=${user}`, 'format=account']),
      this.run('sacctmgr', ['-nP', 'show', 'user', user, 'format=defaultaccount']),
    ]);
    if (assoc.exitCode !== 0) return null;
    const names = [...new Set(lines(assoc.stdout).map((l) => l.trim()))].filter(Boolean);
    if (names.length === 0) return null;
    const fallback = lines(defaults.stdout)[0]?.trim();
    return names.map((name) => ({ name, default: name === fallback }));
  }
}

function statusFailure(result: CommandResult): HttpFailure {
  // /status/{system}/… endpoints turn every failure into a 500, with the inner code as a prefix.
  return new HttpFailure(
    500,
    `500: Remote process failed with exit status:${result.exitCode} and error message:${result.stderr.trim()}`,
  );
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

function keyValues(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const token of line.trim().split(/\s+/)) {
    const at = token.indexOf('=');
    if (at > 0) fields[token.slice(0, at)] = token.slice(at + 1);
  }
  return fields;
}

function epochOrNull(value: string | undefined): number | null {
  if (!value || !/^\d+$/.test(value) || value === '0') return null;
  return Number(value);
}

/** `[D-]HH:MM:SS`, `MM:SS` or minutes-only SLURM durations in seconds; null for UNLIMITED or unknown. */
function durationSeconds(value: string | undefined): number | null {
  if (!value || /UNLIMITED|INVALID|N\/A|Partition_Limit/i.test(value)) return null;
  const match = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(value.trim());
  if (!match) return /^\d+$/.test(value) ? Number(value) * 60 : null;
  const [, days, hours, minutes, seconds] = match;
  return Number(days ?? 0) * 86400 + Number(hours ?? 0) * 3600 + Number(minutes) * 60 + Number(seconds);
}

function nullIfBlank(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

function fromSacct(f: string[]): JobObject | undefined {
  const [
    id,
    name,
    state,
    reason,
    start,
    end,
    elapsed,
    limit,
    nodes,
    account,
    partition,
    user,
    group,
    workdir,
  ] = f;
  const [priority, exitCode, allocNodes, cluster, suspended] = f.slice(14);
  if (!id || !/^\d+$/.test(id)) return undefined;
  const [code, signal] = (exitCode ?? '').split(':');
  return {
    jobId: id,
    name: name ?? '',
    status: {
      state: state ?? 'UNKNOWN',
      stateReason: reason ?? null,
      exitCode: code !== undefined && /^\d+$/.test(code) ? Number(code) : null,
      interruptSignal: signal !== undefined && /^\d+$/.test(signal) ? Number(signal) : null,
    },
    tasks: [],
    time: {
      elapsed: elapsed && /^\d+$/.test(elapsed) ? Number(elapsed) : null,
      start: epochOrNull(start),
      end: epochOrNull(end),
      suspended: durationSeconds(suspended),
      limit: limit && /^\d+$/.test(limit) ? Number(limit) * 60 : null,
    },
    account: nullIfBlank(account),
    allocationNodes: Number(allocNodes ?? 0) || 0,
    cluster: cluster ?? '',
    group: nullIfBlank(group),
    nodes: nodes ?? '',
    partition: partition ?? '',
    killRequestUser: null,
    user: nullIfBlank(user),
    workingDirectory: workdir ?? '',
    priority: priority && /^\d+$/.test(priority) ? Number(priority) : null,
  };
}

function fromSqueue(f: string[], cluster: string): JobObject | undefined {
  const [id, name, state, reason, start, end, limit, nodes, account, partition, user, group, workdir] = f;
  const [priority, nodeCount, elapsed] = f.slice(13);
  if (!id || !/^\d+$/.test(id)) return undefined;
  return {
    jobId: id,
    name: name ?? '',
    status: { state: state ?? 'UNKNOWN', stateReason: reason ?? null, exitCode: null, interruptSignal: null },
    tasks: [],
    time: {
      elapsed: durationSeconds(elapsed),
      start: epochOrNull(start),
      end: epochOrNull(end),
      suspended: null,
      limit: durationSeconds(limit),
    },
    account: nullIfBlank(account),
    allocationNodes: Number(nodeCount ?? 0) || 0,
    cluster,
    group: nullIfBlank(group),
    nodes: nodes ?? '',
    partition: partition ?? '',
    killRequestUser: null,
    user: nullIfBlank(user),
    workingDirectory: workdir ?? '',
    priority: priority && /^\d+$/.test(priority) ? Number(priority) : null,
  };
}
