import { z } from 'zod';
import { SmlError } from '../src/errors.js';
import { CancelResultView } from '../src/jobs/types.js';
import { DEFAULT_CALL_BUDGET_S } from './deadline.js';
import { defineTool, type ToolContext } from './define-tool.js';
import { jobIdField } from './fields.js';

const CONFIRM_TIMEOUT_MS = 120_000;

const input = z.strictObject({
  job_id: jobIdField('The job to stop'),
  whole_chain: z.boolean().optional().describe('Chains: true (default) stops all jobs; false only this one'),
  confirm: z.boolean().optional().describe('true once the user agreed (when the client cannot ask them)'),
  allow_foreign: z
    .boolean()
    .optional()
    .describe('Also a job not launched by sml-mcp, if the user asked for it'),
});

const output = z.object({
  outcome: z.enum(['cancelled', 'declined']).describe('declined: the user said no'),
  confirmed_by: z.enum(['user', 'argument']).nullable(),
  summary: z.string(),
  results: z.array(CancelResultView),
});

export const cancelTool = defineTool({
  name: 'cancel',
  title: 'Cancel a deployment',
  description:
    'Stop a deployment (scancel): it stops serving at once, so the user must agree (the client asks them, or pass confirm: true once they did). Stops a whole chain by default; jobs sml-mcp did not launch need allow_foreign.',
  kind: 'destructive',
  touchesCluster: true,
  input,
  output,
  // The user's time to answer the confirmation counts on top of the cluster's.
  waitS: () => CONFIRM_TIMEOUT_MS / 1000 + DEFAULT_CALL_BUDGET_S,
  async run(args, context) {
    const { deps, extra } = context;
    const wholeChain = args.whole_chain ?? true;
    const plan = await deps.jobs.describeCancel(args.job_id, { wholeChain });
    if (!plan.is_ours && !args.allow_foreign) {
      throw new SmlError('NOT_OWNED', `Job ${args.job_id} was not launched by sml-mcp; it was left alone.`, {
        hint: 'If the user explicitly wants it stopped, call cancel again with allow_foreign: true.',
      });
    }
    const confirmation = await confirmCancel(context, plan.summary, args.confirm === true);
    if (confirmation === 'declined') {
      return {
        structured: { outcome: 'declined' as const, confirmed_by: null, summary: plan.summary, results: [] },
        text: `Not cancelled: the user declined. ${plan.summary} keeps running.`,
      };
    }
    const results = await deps.jobs.cancel(args.job_id, {
      wholeChain,
      allowForeign: args.allow_foreign === true,
      signal: extra.signal,
    });
    const lines = results.map(
      (r) =>
        `job ${r.job_id}: ${r.already_ended ? 'had already ended' : r.cancelled ? 'cancelled' : 'not cancelled'}${r.note ? ` (${r.note})` : ''}`,
    );
    return {
      structured: {
        outcome: 'cancelled' as const,
        confirmed_by: confirmation,
        summary: plan.summary,
        results,
      },
      text: lines.join('\n'),
    };
  },
});

/** Ask the user through elicitation when the client can; otherwise insist on confirm: true (fail closed). */
async function confirmCancel(
  { mcp, extra }: ToolContext,
  summary: string,
  isConfirmedByArgument: boolean,
): Promise<'user' | 'argument' | 'declined'> {
  if (!mcp.server.getClientCapabilities()?.elicitation) {
    if (isConfirmedByArgument) return 'argument';
    throw new SmlError('CONFIRMATION_REQUIRED', `Cancelling needs confirmation: ${summary}.`, {
      hint: 'Ask the user whether to stop it; if they agree, call cancel again with confirm: true.',
    });
  }
  let answer: Awaited<ReturnType<typeof mcp.server.elicitInput>>;
  try {
    answer = await mcp.server.elicitInput(
      {
        mode: 'form',
        message: `Cancel ${summary}? The model stops serving immediately.`,
        requestedSchema: {
          type: 'object',
          properties: {
            confirm: { type: 'boolean', title: 'Cancel the deployment', description: summary },
          },
          required: ['confirm'],
        },
      },
      { relatedRequestId: extra.requestId, signal: extra.signal, timeout: CONFIRM_TIMEOUT_MS },
    );
  } catch (error) {
    if (extra.signal.aborted) throw error;
    throw new SmlError(
      'CONFIRMATION_REQUIRED',
      `Could not get the user's confirmation to cancel: ${summary}.`,
      {
        hint: 'Ask the user in the conversation; if they agree, call cancel again with confirm: true.',
        cause: error,
      },
    );
  }
  return answer.action === 'accept' && answer.content?.confirm === true ? 'user' : 'declined';
}
