import { SmlError } from '../errors.js';
import { describeDuration, formatDuration } from './duration.js';
import { JOB_ID_PATTERN } from './ids.js';

/**
 * Consecutive job chains (SML section 4): serving longer than the per-job cap is a chain of jobs,
 * each starting `interval = max_job_time − handover` after its predecessor started, so two jobs
 * overlap for `handover` while the successor loads the model; its in-job health checker cancels
 * the predecessor once all replicas answer. The last job is trimmed to the remaining time.
 */

export interface ChainJobPlan {
  index: number;
  /** Jobs in the whole chain (1 for a single job). */
  chainLength: number;
  /** Seconds after the head's start at which this job is meant to start. */
  offsetSeconds: number;
  /** Wall time of this job in seconds (whole minutes, at least one). */
  timeLimitSeconds: number;
  /** `HH:MM:SS` or `D-HH:MM:SS`. */
  timeLimit: string;
  /** Minutes after the predecessor *starts* (SLURM `--dependency=after:<prev>+<minutes>`); undefined for the head. */
  dependencyDelayMinutes?: number;
}

export interface ChainPlan {
  jobs: ChainJobPlan[];
  intervalSeconds: number;
  totalSeconds: number;
  warnings: string[];
}

export interface ChainInput {
  totalSeconds: number;
  maxJobSeconds: number;
  handoverSeconds: number;
  /** The user asked for a chain (SML's --consecutive); required when total exceeds the cap. */
  isConsecutive: boolean;
}

const roundUpToMinute = (seconds: number): number => Math.max(60, Math.ceil(seconds / 60) * 60);

/** SML's `plan_consecutive_offsets`: offsets of every job of the chain. */
export function planChainOffsets(
  totalSeconds: number,
  jobSeconds: number,
  handoverSeconds: number,
): number[] {
  if (jobSeconds <= 0 || handoverSeconds < 0 || handoverSeconds >= jobSeconds) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `handover_time (${formatDuration(handoverSeconds)}) must be shorter than max_job_time (${formatDuration(jobSeconds)}).`,
      { hint: 'Lower handover_time or raise max_job_time.' },
    );
  }
  if (totalSeconds <= jobSeconds) return [0];
  const interval = jobSeconds - handoverSeconds;
  const count = Math.ceil((totalSeconds - jobSeconds) / interval) + 1;
  return Array.from({ length: count }, (_, i) => i * interval);
}

/** Plan the jobs of a launch: one job when the time fits the cap, else a chain (when allowed). */
export function planChain(input: ChainInput): ChainPlan {
  const { totalSeconds, maxJobSeconds, handoverSeconds } = input;
  const warnings: string[] = [];
  if (totalSeconds > maxJobSeconds && !input.isConsecutive) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `time (${formatDuration(totalSeconds)}) exceeds the per-job cap (max_job_time ${formatDuration(maxJobSeconds)}).`,
      {
        hint: 'Set consecutive: true to serve it with a chain of jobs, or shorten time.',
        details: { time: formatDuration(totalSeconds), max_job_time: formatDuration(maxJobSeconds) },
      },
    );
  }
  if (input.isConsecutive && totalSeconds <= maxJobSeconds) {
    warnings.push(
      `consecutive ignored: time (${formatDuration(totalSeconds)}) fits in one job (max_job_time ${formatDuration(maxJobSeconds)}); submitting a single job.`,
    );
  }
  const offsets = input.isConsecutive ? planChainOffsets(totalSeconds, maxJobSeconds, handoverSeconds) : [0];
  const interval = maxJobSeconds - handoverSeconds;
  const jobs = offsets.map((offset, index): ChainJobPlan => {
    const isLast = index === offsets.length - 1;
    const raw = offsets.length === 1 ? totalSeconds : isLast ? totalSeconds - offset : maxJobSeconds;
    const timeLimitSeconds = roundUpToMinute(raw);
    return {
      index,
      chainLength: offsets.length,
      offsetSeconds: offset,
      timeLimitSeconds,
      timeLimit: formatDuration(timeLimitSeconds),
      dependencyDelayMinutes: index === 0 ? undefined : Math.max(1, Math.floor(interval / 60)),
    };
  });
  return { jobs, intervalSeconds: offsets.length > 1 ? interval : 0, totalSeconds, warnings };
}

/**
 * The scheduling directives of chain job `job`: the head of a chain starts `now` (interpreted by
 * SLURM on the cluster, so a client in another timezone cannot delay it); a successor starts a
 * fixed number of minutes after its predecessor starts.
 */
export function chainDirectives(
  job: ChainJobPlan,
  previousJobId?: string,
): { begin?: string; dependency?: string } {
  if (job.index === 0) return job.chainLength > 1 ? { begin: 'now' } : {};
  if (!previousJobId || !JOB_ID_PATTERN.test(previousJobId)) {
    throw new SmlError(
      'INTERNAL',
      `Chain job ${job.index} needs its predecessor's numeric job id, got '${previousJobId ?? ''}'.`,
    );
  }
  return { dependency: `after:${previousJobId}+${job.dependencyDelayMinutes}` };
}

/** How SML prints a successor's start: `9h after 1234 starts`. */
export function describeChainStart(
  job: Pick<ChainJobPlan, 'dependencyDelayMinutes'>,
  previousJobId: string,
): string {
  return `${describeDuration((job.dependencyDelayMinutes ?? 0) * 60)} after ${previousJobId} starts`;
}
