import { z } from 'zod';
import { SmlError } from '../src/errors.js';
import type { WaitProgress } from '../src/jobs/api.js';
import { isUnknownJob } from '../src/jobs/lifecycle.js';
import type { JobStatusView } from '../src/jobs/types.js';
import { logger } from '../src/log.js';
import { defineTool, type ToolExtra } from './define-tool.js';
import { jobIdField } from './fields.js';
import { JobStatusSchema } from './schemas.js';

const DEFAULT_WAIT_S = 50;
const PROGRESS_MIN_INTERVAL_MS = 1000;

const input = z.object({
  job_ids: z
    .array(jobIdField('A job'))
    .min(1)
    .max(200)
    .optional()
    .describe('Jobs to report on. Omit to get every job sml-mcp launched for you that SLURM still knows'),
  wait_until: z
    .enum(['running', 'serving', 'ended'])
    .optional()
    .describe(
      'Block until every named job reaches this phase: running = the job has nodes and its engines are starting; serving = every replica answers /health (the endpoint is usable); ended = the job finished. A job that ends first stops the wait. Needs job_ids',
    ),
  timeout_s: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .optional()
    .describe(
      `Longest wait in seconds (default ${DEFAULT_WAIT_S}). Many clients abort a call after 60 s, so wait in rounds: call status again while wait.timed_out is true. Loading a large model can take 10-30 minutes`,
    ),
});

const output = z.object({
  jobs: z.array(JobStatusSchema),
  wait: z
    .object({
      target: z.enum(['running', 'serving', 'ended']),
      reached: z.boolean().describe('Every job reached the target'),
      timed_out: z.boolean().describe('The timeout passed first; call status again to keep waiting'),
      waited_s: z.number(),
    })
    .nullable()
    .describe('Outcome of wait_until, null when no wait was asked'),
});

export const statusTool = defineTool({
  name: 'status',
  title: 'Job status',
  description:
    'Report the state of deployments launched with sml-mcp: SLURM state and reason, lifecycle phase (queued → starting → serving → degraded → ended), nodes, replica health, OpenAI-compatible endpoints, and a diagnosis when a known failure shows in the logs. Give job_ids for specific jobs or omit them for all of yours. With wait_until it waits (sending progress notifications) until the jobs are running, serving or ended, or until timeout_s. When a job failed, read its replica logs with the logs tool.',
  kind: 'read',
  touchesCluster: true,
  input,
  output,
  async run(args, { deps, extra }) {
    const jobIds = args.job_ids;
    if (!args.wait_until) {
      const jobs = await deps.jobs.status(jobIds, { signal: extra.signal });
      if (jobIds && jobs.every(isUnknownJob)) throw notFound(jobIds);
      return { structured: { jobs, wait: null }, text: describeJobs(jobs) };
    }
    if (!jobIds) {
      throw new SmlError('INVALID_ARGUMENT', 'wait_until needs job_ids: which jobs should it wait for?', {
        hint: 'Pass the job ids returned by launch, e.g. {"job_ids": ["123456"], "wait_until": "serving"}.',
      });
    }
    const timeoutS = args.timeout_s ?? DEFAULT_WAIT_S;
    const started = Date.now();
    const result = await deps.jobs.waitFor(jobIds, args.wait_until, {
      timeoutS,
      signal: extra.signal,
      onProgress: createProgressReporter(extra, timeoutS),
    });
    const waitedS = Math.round((Date.now() - started) / 100) / 10;
    const wait = {
      target: args.wait_until,
      reached: result.reached,
      timed_out: result.timed_out,
      waited_s: waitedS,
    };
    const headline = result.reached
      ? `All ${jobIds.length} job(s) reached ${args.wait_until} after ${waitedS} s.`
      : result.timed_out
        ? `Not yet ${args.wait_until} after ${waitedS} s; call status with wait_until again to keep waiting.`
        : `Stopped waiting for ${args.wait_until}: a job ended first.`;
    return {
      structured: { jobs: result.statuses, wait },
      text: `${headline}\n${describeJobs(result.statuses)}`,
    };
  },
});

function notFound(jobIds: readonly string[]): SmlError {
  return new SmlError('NOT_FOUND', `No job ${jobIds.join(', ')} is known to SLURM or to sml-mcp.`, {
    hint: 'Call status without job_ids to list your jobs; finished jobs age out of SLURM after a while.',
  });
}

/** Progress notifications: only with a client token, at most one per second, strictly increasing. */
export function createProgressReporter(extra: ToolExtra, total: number) {
  const token = extra._meta?.progressToken;
  let lastSentAt = 0;
  let lastProgress = -1;
  return async (progress: WaitProgress): Promise<void> => {
    if (token === undefined || extra.signal.aborted) return;
    const now = Date.now();
    if (now - lastSentAt < PROGRESS_MIN_INTERVAL_MS) return;
    const value = Math.max(progress.elapsed_s, lastProgress + 0.001);
    lastSentAt = now;
    lastProgress = value;
    try {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: value, total, message: progress.message },
      });
    } catch (error) {
      // Progress is best effort: a client that went away must not fail the wait itself.
      logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'progress not sent');
    }
  };
}

export function describeJob(job: JobStatusView): string {
  if (isUnknownJob(job)) return `job ${job.job_id}: unknown to SLURM and to sml-mcp (check the id)`;
  const chain = job.chain_length > 1 ? ` [chain ${job.chain_index + 1}/${job.chain_length}]` : '';
  const parts = [`job ${job.job_id}${chain} ${job.served_model_name} on ${job.system}: ${job.phase}`];
  if (job.phase === 'ended') parts.push(`(${job.end_reason ?? 'unknown'}, SLURM ${job.slurm_state})`);
  else parts.push(`(SLURM ${job.slurm_state}${job.slurm_reason ? `, ${job.slurm_reason}` : ''})`);
  if (job.phase !== 'queued' && job.phase !== 'ended' && job.replicas_expected > 0) {
    parts.push(`${job.replicas_healthy}/${job.replicas_expected} replicas healthy`);
  }
  const endpoint = job.endpoints.find((e) => e.kind === 'router') ?? job.endpoints[0];
  if (endpoint && job.phase !== 'ended') parts.push(`endpoint ${endpoint.url}`);
  let line = parts.join(', ');
  if (job.failure_hint) line += `\n  likely cause: ${job.failure_hint.cause} Fix: ${job.failure_hint.fix}`;
  return line;
}

export function describeJobs(jobs: readonly JobStatusView[]): string {
  if (jobs.length === 0) return 'No sml-mcp jobs found. Launch one with the launch tool.';
  return jobs.map(describeJob).join('\n');
}
