import { z } from 'zod';
import { LIVE_VIEW_TOOL_META } from '../resources/live-view.js';
import { JOB_ID_PATTERN } from '../src/domain/ids.js';
import { SmlError } from '../src/errors.js';
import { isUnknownJob } from '../src/jobs/lifecycle.js';
import { JobStatusView, WAIT_TARGETS } from '../src/jobs/types.js';
import { BRIEF } from '../src/published.js';
import { defineTool } from './define-tool.js';

const DEFAULT_WAIT_S = 50;

const input = z.strictObject({
  job_ids: z
    .array(z.string().regex(JOB_ID_PATTERN, 'a SLURM job id such as 123456'))
    .min(1)
    .max(200)
    .optional()
    .describe('Default: all yours SLURM still knows'),
  wait_until: z
    .enum(WAIT_TARGETS)
    .optional()
    .describe('Until all are running (have nodes), serving (all replicas healthy) or ended'),
  timeout_s: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .optional()
    .describe(
      `Call limit, s (wait default ${DEFAULT_WAIT_S}; clients give up at 60): repeat while wait.timed_out. Big models load 10-30 min`,
    ),
});

const output = z.object({
  jobs: z.array(JobStatusView).meta({
    ...BRIEF,
    description:
      'Per job: job_id, phase (queued → starting → serving → degraded → ended), endpoints, replica health, failure_hint, SLURM state, times, notes, …',
  }),
  wait: z
    .object({
      target: z.enum(WAIT_TARGETS),
      reached: z.boolean(),
      timed_out: z.boolean().describe('Call status again to keep waiting'),
      waited_s: z.number(),
    })
    .nullable()
    .describe('null without wait_until'),
});

export const statusTool = defineTool({
  name: 'status',
  title: 'Job status',
  description:
    'State of your deployments: SLURM state and reason, phase, nodes, replica health, OpenAI endpoints, and the likely cause of a known failure. wait_until waits, with progress, up to timeout_s. After a failure read replica_<r>.err with logs.',
  _meta: LIVE_VIEW_TOOL_META,
  kind: 'read',
  touchesCluster: true,
  input,
  output,
  // timeout_s bounds the whole call, a wait or not; a wait without it gets the default round.
  waitS: (args) => args.timeout_s ?? (args.wait_until ? DEFAULT_WAIT_S : undefined),
  async run(args, { deps, extra, progress }) {
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
      onProgress: progress,
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
  if (job.gateway)
    line += `\n  gateway: ${job.gateway.answers ? 'answers' : 'does not answer'} (${job.gateway.detail})`;
  for (const note of job.notes) line += `\n  note: ${note}`;
  return line;
}

export function describeJobs(jobs: readonly JobStatusView[]): string {
  if (jobs.length === 0) return 'No sml-mcp jobs found. Launch one with the launch tool.';
  return jobs.map(describeJob).join('\n');
}
