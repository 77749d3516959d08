import { signalWithTimeout } from '../src/abort.js';
import { SmlError } from '../src/errors.js';
import { logger } from '../src/log.js';
import type { ToolContext, ToolDefinition, ToolExtra } from './define-tool.js';

/**
 * The time a tool call may take, and the progress it sends meanwhile: a call never hangs on a slow
 * cluster past its budget, and a client that resets its timeout on progress keeps waiting.
 */

/** A call's time budget unless the caller asked for a longer wait: under the 60 s at which many clients give up. */
export const DEFAULT_CALL_BUDGET_S = 50;
/** Beyond the wait a caller asked for: time to wrap up and answer. */
const WAIT_GRACE_S = 5;
/** While a call runs, progress at least this often (clients that reset their timeout on progress keep waiting). */
const HEARTBEAT_MS = 5000;

/**
 * Progress notifications of one tool call: only with a client token, strictly increasing, at
 * most one a second. The call's heartbeat (runWithinBudget) and a tool's own updates (a status
 * wait) share one reporter, so the values never go back.
 */
export interface ProgressReporter {
  (update: { elapsed_s: number; message: string }): Promise<void>;
  /** Milliseconds since the last notification was sent (Infinity before the first). */
  sinceLastMs(): number;
}

const MIN_INTERVAL_MS = 1000;

export function createProgressReporter(extra: ToolExtra, total: number): ProgressReporter {
  const token = extra._meta?.progressToken;
  let lastSentAt = Number.NEGATIVE_INFINITY;
  let lastProgress = -1;
  const report = async (update: { elapsed_s: number; message: string }): Promise<void> => {
    if (token === undefined || extra.signal.aborted) return;
    const now = Date.now();
    if (now - lastSentAt < MIN_INTERVAL_MS) return;
    const progress = Math.max(update.elapsed_s, lastProgress + 0.001);
    lastSentAt = now;
    lastProgress = progress;
    try {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress, total, message: update.message },
      });
    } catch (error) {
      // Progress is best effort: a client that went away must not fail the call itself.
      logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'progress not sent');
    }
  };
  return Object.assign(report, { sinceLastMs: () => Date.now() - lastSentAt });
}

/**
 * Run a tool under its time budget: its signal aborts when the budget runs out (execa and undici
 * calls stop, retries are not started), the call answers TIMEOUT then even if something ignores
 * the signal, and a heartbeat sends progress while it runs.
 */
export async function runWithinBudget(
  tool: ToolDefinition,
  args: Record<string, unknown>,
  context: Omit<ToolContext, 'progress'>,
) {
  const waitS = tool.waitS?.(args);
  const budgetS = waitS === undefined ? DEFAULT_CALL_BUDGET_S : waitS + WAIT_GRACE_S;
  const deadline = signalWithTimeout(budgetS * 1000);
  const extra = { ...context.extra, signal: AbortSignal.any([context.extra.signal, deadline]) };
  const progress = createProgressReporter(extra, waitS ?? budgetS);
  const started = Date.now();
  const heartbeat = setInterval(() => {
    if (progress.sinceLastMs() < HEARTBEAT_MS) return;
    const elapsedS = (Date.now() - started) / 1000;
    void progress({ elapsed_s: elapsedS, message: `${tool.name}: working (${Math.round(elapsedS)} s)` });
  }, HEARTBEAT_MS / 5);
  const run = tool.run(args, { ...context, extra, progress });
  // Settled later (aborted) when the deadline wins the race: never an unhandled rejection.
  run.catch(() => undefined);
  try {
    return await Promise.race([run, rejectWhenAborted(extra.signal)]);
  } catch (error) {
    // The client cancelled (its reason may be any value): a cancellation, not a bug in sml-mcp.
    if (context.extra.signal.aborted && !(error instanceof SmlError)) {
      throw new SmlError('CANCELLED', `${tool.name} was cancelled by the client before it finished.`, {
        cause: error,
      });
    }
    if (!deadline.aborted || context.extra.signal.aborted) throw error;
    throw new SmlError(
      'TIMEOUT',
      `${tool.name} did not finish within ${budgetS} s: the cluster did not answer in time.`,
      {
        hint:
          tool.timeoutHint ??
          'Nothing was changed; the cluster or its gateway is slow or unreachable. Try again in a moment (list_systems shows whether it answers).',
        cause: error,
      },
    );
  } finally {
    clearInterval(heartbeat);
  }
}

function rejectWhenAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
