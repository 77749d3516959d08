/**
 * The one error class of sml-mcp. Every failure a user can act on is an SmlError with a stable
 * code, a message that names the bad value and what was expected, and the next step to take.
 */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'NOT_CONFIGURED',
  'UNKNOWN_MODEL',
  'UNKNOWN_SYSTEM',
  'CONFLICT',
  'SUBMIT_FAILED',
  'SCHEDULER_ERROR',
  'SCHEDULER_UNREACHABLE',
  'AUTH_FAILED',
  'PERMISSION_DENIED',
  'RATE_LIMITED',
  'TIMEOUT',
  'CANCELLED',
  'CONFIRMATION_REQUIRED',
  'NOT_OWNED',
  'OFFLINE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface SmlErrorOptions {
  /** What the user (or agent) should do next; appended to the message shown to them. */
  hint?: string;
  /** Structured details safe to show (never secrets); code branches on the typed fields below instead. */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** The request may have taken effect although its answer was lost (a submit may have queued a job). */
  isAmbiguous?: boolean;
  /** The HTTP status a REST gateway (FirecREST) answered. */
  httpStatus?: number;
  /** What the gateway itself said about the failure (secrets redacted). */
  serverMessage?: string;
}

export class SmlError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;
  readonly isAmbiguous: boolean;
  readonly httpStatus?: number;
  readonly serverMessage?: string;

  constructor(code: ErrorCode, message: string, options: SmlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SmlError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
    this.isAmbiguous = options.isAmbiguous ?? false;
    this.httpStatus = options.httpStatus;
    this.serverMessage = options.serverMessage;
  }

  /** The message with its next step, as shown to a person or an agent. */
  get userMessage(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}

/** Longest error text shown to a user or agent: a huge bad value is never echoed whole. */
export const MAX_ERROR_TEXT = 4000;
const KEPT_TAIL = 1000;

/**
 * `[CODE] message next-step`, redacted, then cut in the middle to MAX_ERROR_TEXT characters (the
 * head names the problem, the tail holds the next step). Every surface that shows an error uses it.
 */
export function errorText(error: SmlError, redact: (text: string) => string = (text) => text): string {
  return truncateMiddle(redact(`[${error.code}] ${error.userMessage}`), MAX_ERROR_TEXT);
}

/** `text` cut to `max` characters around an `… [N characters omitted] …` marker. */
export function truncateMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const tail = Math.min(KEPT_TAIL, Math.floor(max / 4));
  const marker = ` … [${text.length - max} characters omitted] … `;
  const head = Math.max(0, max - tail - marker.length);
  return `${text.slice(0, head)}${marker}${text.slice(text.length - tail)}`;
}

/** Any thrown value as an SmlError; unexpected errors become INTERNAL without leaking a stack. */
export function toSmlError(error: unknown): SmlError {
  if (error instanceof SmlError) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new SmlError('CANCELLED', 'The request was cancelled before it finished.', { cause: error });
  }
  const text = error instanceof Error ? error.message : String(error);
  return new SmlError('INTERNAL', `Unexpected error: ${text}`, {
    hint: 'This is a bug in sml-mcp; the server log (stderr) has the details.',
    cause: error,
  });
}
