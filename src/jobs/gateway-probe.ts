import { loadUndici } from '../libraries.js';

/**
 * SML's gateway check (its TUI's health line): does the deployment answer through the serving
 * gateway that OpenTela registers it with? One real one-token chat completion for the served
 * name, with the user's research API key. The key goes only into the Authorization header: no
 * result, log or error text ever carries it.
 */

export interface GatewayProbe {
  /** True when the gateway answered the completion with 2xx. */
  answers: boolean;
  /** HTTP status, or null when the gateway could not be reached. */
  http_status: number | null;
  detail: string;
}

const PROBE_TIMEOUT_MS = 10_000;

export async function probeGateway(
  gatewayUrl: string,
  servedModelName: string,
  apiKey: string,
  options: { signal?: AbortSignal } = {},
): Promise<GatewayProbe> {
  const url = `${gatewayUrl.replace(/\/+$/, '')}/v1/chat/completions`;
  try {
    const { request } = await loadUndici();
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({
        model: servedModelName,
        messages: [{ role: 'user', content: 'Say the word "Hello". Nothing more.' }],
        max_tokens: 1,
        stream: false,
      }),
      headersTimeout: PROBE_TIMEOUT_MS,
      bodyTimeout: PROBE_TIMEOUT_MS,
      signal: options.signal,
    });
    const body = (await response.body.text()).slice(0, 300).replace(/\s+/g, ' ').trim();
    if (response.statusCode >= 200 && response.statusCode < 300) {
      return {
        answers: true,
        http_status: response.statusCode,
        detail: `${servedModelName} answered through ${gatewayUrl}`,
      };
    }
    const why =
      response.statusCode === 401 || response.statusCode === 403
        ? 'the gateway refused SML_SWISSAI_RESEARCH_API_KEY'
        : response.statusCode === 404
          ? 'the gateway does not know this model yet (OpenTela registration pending, or it left the mesh)'
          : `HTTP ${response.statusCode}${body ? `: ${body.replaceAll(apiKey, '[redacted]')}` : ''}`;
    return { answers: false, http_status: response.statusCode, detail: why };
  } catch (error) {
    const message = (error as Error).message.replaceAll(apiKey, '[redacted]');
    return { answers: false, http_status: null, detail: `gateway ${gatewayUrl} not reachable: ${message}` };
  }
}
