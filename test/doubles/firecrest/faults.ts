/**
 * Fault switches of the FirecREST double. Each rule applies to the next `count` requests it
 * matches (by default every API request; the token endpoint only when a rule names its path).
 */

export interface FaultMatch {
  /** HTTP method, e.g. 'POST'. */
  method?: string;
  /** Substring of (or pattern for) the request path below the base path, lower-cased, e.g. '/compute/'. */
  path?: string | RegExp;
}

export type FaultRule =
  | { kind: 'fail'; status: number; message?: string; afterAction: boolean }
  | { kind: 'rate-limit'; retryAfter: string }
  | { kind: 'delay'; delayMs: number }
  | { kind: 'drop'; afterAction: boolean }
  | { kind: 'hang' }
  | { kind: 'redirect'; location: string };

interface ArmedRule {
  rule: FaultRule;
  remaining: number;
  match: FaultMatch;
}

/** A fault description as accepted by `POST /__admin/faults`. */
export interface FaultRequest extends FaultMatch {
  kind: FaultRule['kind'];
  count?: number;
  status?: number;
  message?: string;
  afterAction?: boolean;
  retryAfter?: number | string;
  delayMs?: number;
  location?: string;
}

export class Faults {
  private rules: ArmedRule[] = [];
  /** Incremented by expireTokens(); tokens issued before the current epoch are expired. */
  tokenEpoch = 0;

  /** Answer the next `count` matching requests with an error status before doing anything (default 503). */
  failNext(count: number, options: { status?: number; message?: string; match?: FaultMatch } = {}): this {
    return this.arm(
      { kind: 'fail', status: options.status ?? 503, message: options.message, afterAction: false },
      count,
      options.match,
    );
  }

  /** Perform the next `count` matching requests, then answer an error instead of the result (default 500). */
  failAfterAction(
    count: number,
    options: { status?: number; message?: string; match?: FaultMatch } = {},
  ): this {
    return this.arm(
      { kind: 'fail', status: options.status ?? 500, message: options.message, afterAction: true },
      count,
      options.match,
    );
  }

  /** Answer 429 with `Retry-After` (seconds, or an HTTP date when given a Date). */
  rateLimitNext(count: number, options: { retryAfter: number | Date; match?: FaultMatch }): this {
    const retryAfter =
      options.retryAfter instanceof Date ? options.retryAfter.toUTCString() : String(options.retryAfter);
    return this.arm({ kind: 'rate-limit', retryAfter }, count, options.match);
  }

  /** Hold the next `count` matching requests for `delayMs` before handling them. */
  delayNext(count: number, delayMs: number, match?: FaultMatch): this {
    return this.arm({ kind: 'delay', delayMs }, count, match);
  }

  /** Destroy the connection of the next `count` matching requests, before or after performing them. */
  dropNext(count: number, options: { afterAction?: boolean; match?: FaultMatch } = {}): this {
    return this.arm({ kind: 'drop', afterAction: options.afterAction ?? false }, count, options.match);
  }

  /** Never answer the next `count` matching requests (a server that stops answering). */
  hangNext(count: number, match?: FaultMatch): this {
    return this.arm({ kind: 'hang' }, count, match);
  }

  /** Answer 307 with `Location: location` (e.g. another host) for the next `count` matching requests. */
  redirectNext(count: number, location: string, match?: FaultMatch): this {
    return this.arm({ kind: 'redirect', location }, count, match);
  }

  /** Every token issued so far counts as expired from now on. */
  expireTokens(): this {
    this.tokenEpoch++;
    return this;
  }

  clear(): void {
    this.rules = [];
  }

  /** Arm a fault from its JSON description (the admin endpoint). */
  add(request: FaultRequest): void {
    const count = request.count ?? 1;
    const match: FaultMatch = { method: request.method, path: request.path };
    switch (request.kind) {
      case 'fail':
        if (request.afterAction)
          this.failAfterAction(count, { status: request.status, message: request.message, match });
        else this.failNext(count, { status: request.status, message: request.message, match });
        break;
      case 'rate-limit':
        this.rateLimitNext(count, {
          retryAfter:
            typeof request.retryAfter === 'string' ? new Date(request.retryAfter) : (request.retryAfter ?? 1),
          match,
        });
        break;
      case 'delay':
        this.delayNext(count, request.delayMs ?? 1000, match);
        break;
      case 'drop':
        this.dropNext(count, { afterAction: request.afterAction, match });
        break;
      case 'hang':
        this.hangNext(count, match);
        break;
      case 'redirect':
        this.redirectNext(count, request.location ?? '/', match);
        break;
      default:
        throw new Error(`unknown fault kind ${String((request as { kind: unknown }).kind)}`);
    }
  }

  /** The fault for this request, if any (consumes one use of the first matching rule). */
  take(method: string, path: string, isApiRequest: boolean): FaultRule | undefined {
    for (const armed of this.rules) {
      if (armed.remaining <= 0 || !matches(armed.match, method, path, isApiRequest)) continue;
      armed.remaining--;
      this.rules = this.rules.filter((r) => r.remaining > 0);
      return armed.rule;
    }
    return undefined;
  }

  private arm(rule: FaultRule, count: number, match: FaultMatch = {}): this {
    this.rules.push({ rule, remaining: count, match });
    return this;
  }
}

function matches(match: FaultMatch, method: string, path: string, isApiRequest: boolean): boolean {
  if (match.method && match.method.toUpperCase() !== method) return false;
  if (match.path === undefined || match.path === '') return isApiRequest;
  if (typeof match.path === 'string') return path.includes(match.path.toLowerCase());
  return match.path.test(path);
}
