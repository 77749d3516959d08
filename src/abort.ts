/**
 * A signal that aborts after `ms` (reason: a TimeoutError) or when any of `signals` does.
 * Not `AbortSignal.any([..., AbortSignal.timeout(ms)])`: on Node 20 `any` holds its sources
 * weakly, so a timeout signal nothing else references is garbage-collected and never fires
 * (a probe then waits forever). Here the pending timer holds the controller.
 */
export function signalWithTimeout(ms: number, ...signals: (AbortSignal | undefined)[]): AbortSignal {
  const timeout = new AbortController();
  setTimeout(() => timeout.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms).unref();
  const sources = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  return sources.length === 0 ? timeout.signal : AbortSignal.any([...sources, timeout.signal]);
}
