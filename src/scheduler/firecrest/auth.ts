import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { redactSecrets } from '../../config/secrets.js';
import { SmlError } from '../../errors.js';
import { loadUndici } from '../../libraries.js';

/**
 * How sml-mcp proves who it is to FirecREST: an OIDC client-credentials pair (personal accounts,
 * tokens fetched from the identity provider) or an API key (service accounts behind a PAT gateway).
 */
export type FirecrestAuth =
  | { kind: 'client-credentials'; tokenUri: string; clientId: string; clientSecret: string }
  | { kind: 'api-key'; apiKey: string };

/** FirecREST settings read from SML's environment variables. */
export interface FirecrestEnvSettings {
  /** `SML_FIRECREST_URL`, the FirecREST base URL, when set. */
  url?: string;
  /** `SML_FIRECREST_TOKEN_URI`, when set. */
  tokenUri?: string;
  /** The credential, when the environment holds a complete one (the API key wins over client credentials). */
  auth?: FirecrestAuth;
}

const ENV_NAMES = {
  url: 'SML_FIRECREST_URL',
  tokenUri: 'SML_FIRECREST_TOKEN_URI',
  clientId: 'SML_FIRECREST_CLIENT_ID',
  clientSecret: 'SML_FIRECREST_CLIENT_SECRET',
  apiKey: 'SML_FIRECREST_API_KEY',
} as const;

/**
 * Read SML's FirecREST variables. `defaults.tokenUri` (from the system profile) is used when
 * `SML_FIRECREST_TOKEN_URI` is unset. A half-configured credential is an error naming what is missing.
 */
export function firecrestCredentialsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  defaults: { tokenUri?: string } = {},
): FirecrestEnvSettings {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  const url = read(ENV_NAMES.url);
  const tokenUri = read(ENV_NAMES.tokenUri) ?? defaults.tokenUri;
  const apiKey = read(ENV_NAMES.apiKey);
  const clientId = read(ENV_NAMES.clientId);
  const clientSecret = read(ENV_NAMES.clientSecret);
  if (url !== undefined) assertHttpUrl(url, ENV_NAMES.url);
  if (apiKey) return { url, tokenUri, auth: { kind: 'api-key', apiKey } };
  if (clientId === undefined && clientSecret === undefined) return { url, tokenUri };
  const missing = [
    clientId === undefined ? ENV_NAMES.clientId : undefined,
    clientSecret === undefined ? ENV_NAMES.clientSecret : undefined,
    tokenUri === undefined ? ENV_NAMES.tokenUri : undefined,
  ].filter((name) => name !== undefined);
  if (missing.length > 0) {
    throw new SmlError(
      'NOT_CONFIGURED',
      `FirecREST client credentials are incomplete: ${missing.join(', ')} unset.`,
      {
        hint: `Set ${missing.join(' and ')}, or set ${ENV_NAMES.apiKey} for a service account.`,
      },
    );
  }
  assertHttpUrl(tokenUri!, ENV_NAMES.tokenUri);
  return {
    url,
    tokenUri,
    auth: {
      kind: 'client-credentials',
      tokenUri: tokenUri!,
      clientId: clientId!,
      clientSecret: clientSecret!,
    },
  };
}

/** The error when no credential is configured at all (SML's wording). */
export function missingFirecrestAuthError(): SmlError {
  return new SmlError(
    'NOT_CONFIGURED',
    'FirecREST authentication is not configured: provide an API key (service account), or a client ID, client secret and token URI (personal account).',
    {
      hint: `Set ${ENV_NAMES.apiKey}, or ${ENV_NAMES.clientId}, ${ENV_NAMES.clientSecret} and ${ENV_NAMES.tokenUri}.`,
    },
  );
}

function assertHttpUrl(value: string, name: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw new SmlError('NOT_CONFIGURED', `${name} is '${value}', which is not an http(s) URL.`, {
      hint: `Set ${name} to a URL such as https://api.cscs.ch/ml/firecrest/v2.`,
    });
  }
}

export interface TokenSourceOptions {
  dispatcher: Dispatcher;
  /** Per token request. */
  requestTimeoutMs: number;
  /** Total time spent retrying the token endpoint on 5xx and transport errors. */
  retryBudgetMs: number;
  /** Never refresh later than this before expiry (default 90 s, capped at half the lifetime). */
  minRefreshMarginMs?: number;
  /** Refresh when this share of the lifetime remains (default 0.25). */
  refreshShare?: number;
  now?: () => number;
}

interface CachedToken {
  value: string;
  expiresAt: number;
  refreshAt: number;
}

/**
 * OIDC client-credentials tokens, cached and refreshed well before expiry (the server rejects
 * tokens with less than 30 s left). Concurrent callers share one refresh.
 */
export class ClientCredentialsTokens {
  private cached: CachedToken | undefined;
  private pending: Promise<CachedToken> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly auth: Extract<FirecrestAuth, { kind: 'client-credentials' }>,
    private readonly options: TokenSourceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** A token valid for a while yet; fetched when the cache is empty or due for refresh. */
  async token(signal?: AbortSignal): Promise<string> {
    const cached = this.cached;
    if (cached && this.now() < cached.refreshAt) return cached.value;
    this.pending ??= this.fetchToken(signal).finally(() => {
      this.pending = undefined;
    });
    const fresh = await this.pending;
    return fresh.value;
  }

  /** Forget `token` after the server rejected it (a newer token fetched meanwhile is kept). */
  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  /** Secrets to scrub from any text shown or logged. */
  secrets(): string[] {
    return [this.auth.clientSecret, this.cached?.value ?? ''].filter((s) => s.length > 0);
  }

  private async fetchToken(signal?: AbortSignal): Promise<CachedToken> {
    const deadline = this.now() + this.options.retryBudgetMs;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.requestToken(signal);
      if (outcome.kind === 'token') {
        this.cached = outcome.token;
        return outcome.token;
      }
      const delay = Math.min(8000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
      if (!outcome.isRetryable || this.now() + delay > deadline) throw outcome.error;
      await sleep(delay, undefined, { signal });
    }
  }

  private async requestToken(
    signal?: AbortSignal,
  ): Promise<
    { kind: 'token'; token: CachedToken } | { kind: 'failed'; error: SmlError; isRetryable: boolean }
  > {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.auth.clientId,
      client_secret: this.auth.clientSecret,
    });
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs);
    const started = this.now();
    let status: number;
    let text: string;
    try {
      const { request } = await loadUndici();
      const response = await request(this.auth.tokenUri, {
        method: 'POST',
        dispatcher: this.options.dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      if (signal?.aborted) throw error;
      const reason = timeout.aborted
        ? `no answer within ${this.options.requestTimeoutMs} ms`
        : (error as Error).message;
      return {
        kind: 'failed',
        isRetryable: true,
        error: new SmlError(
          'AUTH_FAILED',
          `Could not reach the token endpoint ${this.auth.tokenUri}: ${reason}.`,
          {
            hint: 'Check SML_FIRECREST_TOKEN_URI and the network; the request is retried automatically.',
            cause: error,
          },
        ),
      };
    }
    if (status >= 200 && status < 300) {
      const parsed = parseTokenBody(text);
      if (parsed) {
        const lifetimeMs = parsed.expiresIn * 1000;
        const margin = Math.min(
          Math.max(
            this.options.minRefreshMarginMs ?? 90_000,
            lifetimeMs * (this.options.refreshShare ?? 0.25),
          ),
          lifetimeMs / 2,
        );
        const expiresAt = started + lifetimeMs;
        return {
          kind: 'token',
          token: { value: parsed.accessToken, expiresAt, refreshAt: expiresAt - margin },
        };
      }
      return {
        kind: 'failed',
        isRetryable: false,
        error: new SmlError(
          'AUTH_FAILED',
          `The token endpoint ${this.auth.tokenUri} answered without an access_token.`,
          {
            hint: 'Check that SML_FIRECREST_TOKEN_URI is the OIDC token endpoint of your FirecREST deployment.',
          },
        ),
      };
    }
    const described = describeTokenError(text, [this.auth.clientSecret]);
    return {
      kind: 'failed',
      isRetryable: status >= 500 || status === 429,
      error: new SmlError(
        'AUTH_FAILED',
        `The token endpoint ${this.auth.tokenUri} refused the client credentials (HTTP ${status}${described ? `: ${described}` : ''}).`,
        {
          hint: 'Check SML_FIRECREST_CLIENT_ID and SML_FIRECREST_CLIENT_SECRET (create a client at the developer portal).',
          httpStatus: status,
        },
      ),
    };
  }
}

function parseTokenBody(text: string): { accessToken: string; expiresIn: number } | undefined {
  try {
    const body = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
    if (typeof body.access_token !== 'string' || body.access_token.length === 0) return undefined;
    const expiresIn = Number(body.expires_in);
    return {
      accessToken: body.access_token,
      expiresIn: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 300,
    };
  } catch {
    return undefined;
  }
}

function describeTokenError(text: string, secrets: string[]): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    const parts = [body.error, body.error_description].filter((p) => typeof p === 'string');
    return redactSecrets(parts.join(': '), secrets).slice(0, 300);
  } catch {
    return '';
  }
}
