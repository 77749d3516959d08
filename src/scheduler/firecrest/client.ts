import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher, type FormData, request } from 'undici';
import { redactSecrets } from '../../config/secrets.js';
import { type ErrorCode, SmlError } from '../../errors.js';
import { logger } from '../../log.js';
import { ClientCredentialsTokens, type FirecrestAuth } from './auth.js';

export interface FirecrestTimeouts {
  /** Limit of one HTTP attempt: connect, headers and body (default 30 s). */
  requestMs: number;
  /** Total time one call may spend retrying 5xx, 429 and transport errors (default 60 s). */
  retryBudgetMs: number;
}

export interface FirecrestBackoff {
  /** First retry delay before jitter (default 250 ms); doubles per attempt. */
  baseDelayMs: number;
  /** Largest retry delay before jitter (default 8 s). */
  maxDelayMs: number;
}

export interface FirecrestClientOptions {
  /** Base URL, e.g. https://api.cscs.ch/ml/firecrest/v2. */
  url: string;
  auth: FirecrestAuth;
  timeouts?: Partial<FirecrestTimeouts>;
  backoff?: Partial<FirecrestBackoff>;
  /** undici dispatcher; by default a keep-alive Agent owned (and closed) by the client. */
  dispatcher?: Dispatcher;
}

export const DEFAULT_TIMEOUTS: FirecrestTimeouts = { requestMs: 30_000, retryBudgetMs: 60_000 };
const DEFAULT_BACKOFF: FirecrestBackoff = { baseDelayMs: 250, maxDelayMs: 8000 };

export type QueryValue = string | number | boolean | undefined;

export interface FirecrestRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the base URL, segments already encoded, e.g. `/compute/daint/jobs`. */
  path: string;
  query?: Record<string, QueryValue>;
  json?: unknown;
  /** A multipart/form-data body (the upload op); undici writes the boundary and part headers. */
  form?: FormData;
  /** Statuses that mean success. */
  expect: readonly number[];
  /** Error answers handed back to the caller instead of being retried or thrown. */
  accept?: (status: number, message: string) => boolean;
  /**
   * `idempotent`: 5xx, 408, 424, 429 and transport errors are retried within the budget.
   * `once`: only failures that certainly did not reach the scheduler are retried (429, 401, 503,
   * 424, refused connections); an ambiguous failure throws an SmlError with `isAmbiguous`.
   */
  retry: 'idempotent' | 'once';
  /** What the call does, for messages: "list the jobs on daint". */
  action: string;
  signal?: AbortSignal;
}

export interface FirecrestResponse {
  status: number;
  body: Buffer;
  /** The server's `message` for error answers ('' otherwise). */
  message: string;
  json(): unknown;
}

type AttemptOutcome =
  | { kind: 'response'; response: FirecrestResponse; retryAfterMs?: number; usedToken?: string }
  | { kind: 'transport'; error: Error; isSent: boolean; isTimeout: boolean };

/** FirecREST's answer on every per-system route when the system is not one it serves. */
const SYSTEM_NOT_FOUND = /^System not found/i;
const TRANSIENT_STATUSES = new Set([408, 424, 500, 502, 503, 504]);
/** Answers given before the scheduler was asked anything: safe to repeat even for a submit. */
const UNPROCESSED_STATUSES = new Set([424, 503]);
const UNSENT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * A FirecREST v2 HTTP client: credentials on every request (to the FirecREST origin only), a
 * timeout on every attempt, retries with exponential backoff and jitter bounded in total time,
 * `Retry-After` honoured on 429, one token refresh on 401, and errors mapped to SmlError codes
 * carrying the server's message (never a token or secret).
 */
export class FirecrestClient {
  readonly baseUrl: string;
  readonly timeouts: FirecrestTimeouts;
  private readonly backoff: FirecrestBackoff;
  private readonly origin: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly tokens: ClientCredentialsTokens | undefined;

  constructor(private readonly options: FirecrestClientOptions) {
    const url = new URL(options.url);
    this.baseUrl = url.toString().replace(/\/+$/, '');
    this.origin = url.origin;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({ connect: { timeout: this.timeouts.requestMs }, keepAliveTimeout: 4000, pipelining: 1 });
    this.tokens =
      options.auth.kind === 'client-credentials'
        ? new ClientCredentialsTokens(options.auth, {
            dispatcher: this.dispatcher,
            requestTimeoutMs: this.timeouts.requestMs,
            retryBudgetMs: this.timeouts.retryBudgetMs,
          })
        : undefined;
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /** Delay before retry number `attempt` (0-based): exponential with "equal jitter". */
  backoffDelay(attempt: number): number {
    const ceiling = Math.min(this.backoff.maxDelayMs, this.backoff.baseDelayMs * 2 ** attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** Send a request with the retry policy of `spec.retry`; resolves on an expected or accepted answer. */
  async send(spec: FirecrestRequest): Promise<FirecrestResponse> {
    const deadline = Date.now() + this.timeouts.retryBudgetMs;
    let hasRefreshedToken = false;
    let lastProblem = '';
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(spec);
      let delay: number;
      if (outcome.kind === 'response') {
        const { response } = outcome;
        // Before `accept`: a 404 for the system is no missing job or file, and no retry fixes it.
        if (response.status === 404 && SYSTEM_NOT_FOUND.test(response.message)) {
          throw this.unknownSystemError(spec, response);
        }
        if (spec.expect.includes(response.status) || spec.accept?.(response.status, response.message)) {
          return response;
        }
        if (response.status === 401 && this.tokens && !hasRefreshedToken) {
          // The token may have expired early or been revoked: one fresh token, one more try.
          if (outcome.usedToken) this.tokens.invalidate(outcome.usedToken);
          hasRefreshedToken = true;
          attempt--;
          continue;
        }
        const isRetryable =
          response.status === 429 ||
          (TRANSIENT_STATUSES.has(response.status) &&
            (spec.retry === 'idempotent' || UNPROCESSED_STATUSES.has(response.status)));
        if (!isRetryable) {
          throw this.httpError(
            spec,
            response,
            TRANSIENT_STATUSES.has(response.status) && spec.retry === 'once',
          );
        }
        delay = outcome.retryAfterMs ?? this.backoffDelay(attempt);
        if (Date.now() + delay > deadline) {
          if (response.status === 429 && outcome.retryAfterMs !== undefined) {
            throw new SmlError(
              'RATE_LIMITED',
              `FirecREST is rate limiting: it asked to wait ${Math.ceil(delay / 1000)} s before it can ${spec.action}, longer than the retry budget of ${Math.round(this.timeouts.retryBudgetMs / 1000)} s.`,
              { hint: 'Try again later.', details: this.details(spec), httpStatus: response.status },
            );
          }
          throw this.httpError(spec, response, false, attempt + 1);
        }
        lastProblem = `HTTP ${response.status}`;
      } else {
        if (spec.signal?.aborted) throw cancelledError(spec, outcome.error);
        if (spec.retry === 'once' && outcome.isSent)
          throw this.transportError(spec, outcome, true, attempt + 1);
        delay = this.backoffDelay(attempt);
        if (Date.now() + delay > deadline) throw this.transportError(spec, outcome, false, attempt + 1);
        lastProblem = outcome.isTimeout ? 'timeout' : outcome.error.message;
      }
      logger.debug(
        { action: spec.action, attempt: attempt + 1, problem: lastProblem, delay },
        'firecrest retry',
      );
      try {
        await sleep(delay, undefined, { signal: spec.signal });
      } catch (error) {
        throw cancelledError(spec, error);
      }
    }
  }

  /** Send and parse the JSON body. */
  async json(spec: FirecrestRequest): Promise<unknown> {
    return (await this.send(spec)).json();
  }

  /** Secrets to scrub from any text that leaves the client. */
  secrets(): string[] {
    const auth = this.options.auth;
    return auth.kind === 'api-key' ? [auth.apiKey] : (this.tokens?.secrets() ?? []);
  }

  private async attempt(spec: FirecrestRequest): Promise<AttemptOutcome> {
    const timeout = AbortSignal.timeout(this.timeouts.requestMs);
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout;
    let usedToken: string | undefined;
    try {
      let url = this.url(spec);
      let method: string = spec.method;
      let body: FormData | string | undefined =
        spec.json !== undefined ? JSON.stringify(spec.json) : spec.form;
      for (let hop = 0; ; hop++) {
        const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'sml-mcp' };
        if (typeof body === 'string') headers['content-type'] = 'application/json';
        // Credentials go to the FirecREST origin only, never to a host a redirect points at.
        if (new URL(url).origin === this.origin) {
          if (this.options.auth.kind === 'api-key') headers['x-api-key'] = this.options.auth.apiKey;
          else {
            usedToken = await this.tokens!.token(signal);
            headers.authorization = `Bearer ${usedToken}`;
          }
        }
        const answer = await request(url, {
          method: method as Dispatcher.HttpMethod,
          headers,
          body,
          signal,
          dispatcher: this.dispatcher,
        });
        const location = answer.headers.location;
        if (
          [301, 302, 303, 307, 308].includes(answer.statusCode) &&
          typeof location === 'string' &&
          hop < 3
        ) {
          await answer.body.dump();
          url = new URL(location, url).toString();
          if (
            answer.statusCode === 303 ||
            ((answer.statusCode === 301 || answer.statusCode === 302) && method !== 'GET')
          ) {
            method = 'GET';
            body = undefined;
          }
          continue;
        }
        const data = Buffer.from(await answer.body.arrayBuffer());
        const isError = answer.statusCode >= 400;
        const message = isError ? this.serverMessage(data) : '';
        const response: FirecrestResponse = {
          status: answer.statusCode,
          body: data,
          message,
          json: () => parseJson(data, spec, answer.statusCode),
        };
        return {
          kind: 'response',
          response,
          usedToken,
          retryAfterMs:
            answer.statusCode === 429 ? parseRetryAfter(answer.headers['retry-after']) : undefined,
        };
      }
    } catch (error) {
      if (error instanceof SmlError) throw error;
      const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
      return {
        kind: 'transport',
        error: error as Error,
        isTimeout: timeout.aborted,
        isSent: !(code !== undefined && UNSENT_ERROR_CODES.has(code)),
      };
    }
  }

  private url(spec: FirecrestRequest): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) params.set(key, String(value));
    }
    const query = params.toString();
    return `${this.baseUrl}${spec.path}${query ? `?${query}` : ''}`;
  }

  private serverMessage(data: Buffer): string {
    let message: string;
    try {
      const body = JSON.parse(data.toString('utf8')) as { message?: unknown; causedBy?: unknown };
      message = typeof body.message === 'string' ? body.message : '';
      if (Array.isArray(body.causedBy) && body.causedBy.length > 0) {
        message = `${message} (caused by: ${body.causedBy.filter((c) => typeof c === 'string').join('; ')})`;
      }
    } catch {
      message = data.toString('utf8', 0, Math.min(data.length, 300)).trim();
    }
    return redactSecrets(message.trim(), this.secrets());
  }

  private details(spec: FirecrestRequest): Record<string, unknown> {
    return { method: spec.method, path: spec.path };
  }

  private httpError(
    spec: FirecrestRequest,
    response: FirecrestResponse,
    isAmbiguous: boolean,
    attempts = 1,
  ): SmlError {
    const { status, message } = response;
    const code = codeForStatus(status, message);
    const said = message ? `: ${message}` : '';
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    return new SmlError(code, `FirecREST could not ${spec.action} (HTTP ${status}${said})${tries}.`, {
      hint: hintForCode(code, this.options.auth.kind),
      details: this.details(spec),
      httpStatus: status,
      serverMessage: message,
      isAmbiguous,
    });
  }

  private unknownSystemError(spec: FirecrestRequest, response: FirecrestResponse): SmlError {
    const system = decodeURIComponent(spec.path.split('/')[2] ?? '');
    return new SmlError(
      'NOT_CONFIGURED',
      `FirecREST at ${new URL(this.baseUrl).host} serves no system named '${system}' (HTTP 404: ${response.message}).`,
      {
        hint: 'Set the FirecREST system name in the system profile (scheduler.system) to one the gateway lists at /status/systems, or check SML_FIRECREST_URL.',
        details: this.details(spec),
        httpStatus: response.status,
        serverMessage: response.message,
        isAmbiguous: false,
      },
    );
  }

  private transportError(
    spec: FirecrestRequest,
    outcome: Extract<AttemptOutcome, { kind: 'transport' }>,
    isAmbiguous: boolean,
    attempts: number,
  ): SmlError {
    const host = new URL(this.baseUrl).host;
    const reason = outcome.isTimeout
      ? `no answer within ${Math.round(this.timeouts.requestMs / 100) / 10} s`
      : redactSecrets(outcome.error.message || String(outcome.error), this.secrets());
    const tries =
      attempts > 1
        ? ` (${attempts} attempts within ${Math.round(this.timeouts.retryBudgetMs / 1000)} s)`
        : '';
    return new SmlError(
      outcome.isTimeout ? 'TIMEOUT' : 'SCHEDULER_UNREACHABLE',
      `FirecREST at ${host} did not answer the request to ${spec.action}: ${reason}${tries}.`,
      {
        hint: 'Check the network and the FirecREST URL (SML_FIRECREST_URL); the gateway may be down.',
        details: this.details(spec),
        isAmbiguous,
        cause: outcome.error,
      },
    );
  }
}

function codeForStatus(status: number, message: string): ErrorCode {
  if (status === 401 || (status === 403 && /not authenticated|invalid authentication/i.test(message))) {
    return 'AUTH_FAILED';
  }
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 408) return 'TIMEOUT';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 424 || status === 503) return 'SCHEDULER_UNREACHABLE';
  if (status >= 400 && status < 500) return 'INVALID_ARGUMENT';
  return 'SCHEDULER_ERROR';
}

function hintForCode(code: ErrorCode, authKind: FirecrestAuth['kind']): string {
  switch (code) {
    case 'AUTH_FAILED':
      return authKind === 'api-key'
        ? 'Check SML_FIRECREST_API_KEY and that SML_FIRECREST_URL points at the API-key gateway.'
        : 'Check SML_FIRECREST_CLIENT_ID, SML_FIRECREST_CLIENT_SECRET and SML_FIRECREST_TOKEN_URI.';
    case 'PERMISSION_DENIED':
      return 'Your account may not access this path, system or account; check with `whoami` and your project.';
    case 'NOT_FOUND':
      return 'Check the name or path; jobs and files appear a few seconds after they are created.';
    case 'TIMEOUT':
      return 'The cluster was slow to answer; try again in a moment.';
    case 'RATE_LIMITED':
      return 'Too many requests; wait a little and try again.';
    case 'SCHEDULER_UNREACHABLE':
      return 'FirecREST cannot reach the cluster right now (it reports it unhealthy); try again later.';
    case 'INVALID_ARGUMENT':
      return 'The request was refused as invalid; the message above says which value.';
    default:
      return 'The scheduler reported an error; the message above is what it said.';
  }
}

function cancelledError(spec: FirecrestRequest, cause: unknown): SmlError {
  return new SmlError('CANCELLED', `The request to ${spec.action} was cancelled before it finished.`, {
    cause,
  });
}

function parseJson(data: Buffer, spec: FirecrestRequest, status: number): unknown {
  if (data.length === 0) return undefined;
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (error) {
    throw new SmlError(
      'SCHEDULER_ERROR',
      `FirecREST answered the request to ${spec.action} (HTTP ${status}) with a body that is not JSON.`,
      {
        hint: 'Check that SML_FIRECREST_URL is the FirecREST v2 base URL (it usually ends in /v2).',
        details: { method: spec.method, path: spec.path },
        httpStatus: status,
        cause: error,
      },
    );
  }
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
