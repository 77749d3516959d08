import type { PromptMessage } from '@modelcontextprotocol/sdk/types.js';
import { completeJobId, guard, jobNotFound } from '../resources/define-resource.js';
import { jobUri, logUri } from '../resources/uris.js';
import { JOB_ID_PATTERN } from '../src/domain/ids.js';
import { describeKnownFailures } from '../src/jobs/diagnosis.js';
import { isUnknownJob } from '../src/jobs/lifecycle.js';
import { definePrompt } from './define-prompt.js';

const JOB_DESCRIPTION = 'The SLURM job id of the deployment to diagnose';
const TAIL_LINES = 80;
const MAX_LOGS = 4;

export const diagnoseJobPrompt = definePrompt({
  name: 'diagnose_job',
  title: 'Diagnose a job',
  description:
    'Explain why a deployment failed or is not serving: its status, the tails of its error logs, and the known failure signatures, with the fix to apply.',
  arguments: [
    {
      name: 'job_id',
      description: JOB_DESCRIPTION,
      isRequired: true,
      pattern: JOB_ID_PATTERN,
      complete: completeJobId,
    },
  ],
  build(args, deps, extra) {
    // Required: the SDK refused the call without it.
    const jobId = args.job_id!;
    return guard(deps, jobUri(jobId), async () => {
      const [status] = await deps.jobs.status([jobId], { signal: extra.signal });
      if (!status || isUnknownJob(status)) throw jobNotFound(jobId);
      const files = (await deps.jobs.listLogFiles(jobId)).filter(
        (f) => f.endsWith('.err') || f === 'log.out',
      );
      const messages: PromptMessage[] = [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: {
              uri: jobUri(jobId),
              mimeType: 'application/json',
              text: JSON.stringify(status, null, 2),
            },
          },
        },
      ];
      for (const file of files.slice(0, MAX_LOGS)) {
        const chunk = await deps.jobs.readLog(jobId, file, {
          tailLines: TAIL_LINES,
          signal: extra.signal,
        });
        if (chunk.is_missing || chunk.text === '') continue;
        messages.push({
          role: 'user',
          content: {
            type: 'resource',
            resource: { uri: logUri(jobId, file), mimeType: 'text/plain', text: chunk.text },
          },
        });
      }
      const hint = status.failure_hint
        ? `sml-mcp already matched a known failure: ${status.failure_hint.signature} in ${status.failure_hint.file} ("${status.failure_hint.line}"): ${status.failure_hint.cause} Suggested fix: ${status.failure_hint.fix}`
        : 'No known failure signature matched yet.';
      messages.push({
        role: 'user',
        content: {
          type: 'text',
          text: [
            `Diagnose job ${jobId} (${status.served_model_name || 'unknown model'} on ${status.system}): it is ${status.phase}${status.end_reason ? ` (${status.end_reason})` : ''}, SLURM state ${status.slurm_state}${status.slurm_reason ? ` (${status.slurm_reason})` : ''}, ${status.replicas_healthy}/${status.replicas_expected} replicas healthy.`,
            hint,
            `Known signatures: ${describeKnownFailures()}. A PENDING job waits for resources or a reservation (see slurm_reason).`,
            'Using the status and log tails above (read more with the logs tool, e.g. replica_<r>.err with tail_lines), explain in plain words what went wrong, where (file and line), and the concrete fix (different layout from size_model, another environment, a corrected path). Do not relaunch or cancel without asking the user.',
          ].join('\n'),
        },
      });
      return { description: `Diagnose job ${jobId}`, messages };
    });
  },
});
