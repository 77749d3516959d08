import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { DEFAULT_MAX_HTTP_SESSIONS } from '../src/config/load.js';
import { SmlError } from '../src/errors.js';
import { logger } from '../src/log.js';
import type { ServerDeps } from '../src/services.js';
import { createMcpServer } from './server.js';

/**
 * Streamable HTTP on node:http: stateful sessions (one McpServer each) that expire when idle,
 * a bearer token on every request (compared in constant time), Host and Origin checks against
 * DNS rebinding, loopback unless explicitly told otherwise, and a bounded request body.
 */

export const MCP_PATH = '/mcp';
const MIN_TOKEN_LENGTH = 16;
const LOOPBACK_HOSTNAMES = ['localhost', '127.0.0.1', '[::1]'];
// A static token has no expiry of its own; the SDK's AuthInfo wants one, so it is renewed per request.
const AUTH_INFO_TTL_S = 3600;

export interface HttpServerOptions {
  host: string;
  port: number;
  /** The bearer token clients must send (from SML_MCP_TOKEN). */
  token: string;
  /** Host header names accepted besides the loopback names (hostnames, no port; IPv6 in brackets). */
  allowedHosts?: string[];
  /** Origin header values accepted besides the server's own loopback origins; any other Origin gets 403. */
  allowedOrigins?: string[];
  /** Binding to a non-loopback address needs this and a non-empty allowedHosts. */
  isRemoteAllowed?: boolean;
  sessionIdleMs?: number;
  maxBodyBytes?: number;
  /** Open sessions at most; an initialize beyond it gets 503 (default 100). */
  maxSessions?: number;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  sessionCount(): number;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  mcp: McpServer;
  lastSeen: number;
  /** POSTs still waiting for their answer: the idle sweep never closes a session that has one. */
  openRequests: number;
}

// How long a client refused for lack of sessions should wait before trying again.
const FULL_RETRY_AFTER_S = 30;

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A page served by this very server on loopback (e.g. the Inspector opened at http://127.0.0.1:PORT). */
export function isOwnLoopbackOrigin(origin: string, port: number): boolean {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && isLoopbackHost(url.hostname) && Number(url.port || 80) === port;
  } catch {
    return false;
  }
}

export function validateHttpOptions(options: HttpServerOptions): void {
  if (!options.token) {
    throw new SmlError('NOT_CONFIGURED', 'serve --http needs a bearer token, and SML_MCP_TOKEN is not set.', {
      hint: 'Set SML_MCP_TOKEN to a long random string (e.g. `openssl rand -hex 32`) and give clients the same value.',
    });
  }
  if (options.token.length < MIN_TOKEN_LENGTH) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `SML_MCP_TOKEN is too short; expected at least ${MIN_TOKEN_LENGTH} characters.`,
      {
        hint: 'Use a long random string, e.g. `openssl rand -hex 32`.',
      },
    );
  }
  if (!isLoopbackHost(options.host)) {
    if (!options.isRemoteAllowed) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `Refusing to listen on ${options.host}: only loopback addresses by default.`,
        {
          hint: 'Pass --allow-remote and --allowed-host <name the clients use> to serve beyond this machine (use TLS in front).',
        },
      );
    }
    if (!options.allowedHosts?.length) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `Listening on ${options.host} needs the list of allowed Host names.`,
        {
          hint: 'Pass --allowed-host <hostname> (repeatable), the names clients use to reach this server.',
        },
      );
    }
  }
}

function hashToken(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function sendJsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return 'too-large';
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startHttpServer(
  deps: ServerDeps,
  options: HttpServerOptions,
): Promise<RunningHttpServer> {
  validateHttpOptions(options);
  const expectedToken = hashToken(options.token);
  const allowedHosts = new Set(
    [...(isLoopbackHost(options.host) ? LOOPBACK_HOSTNAMES : []), ...(options.allowedHosts ?? [])].map((h) =>
      h.toLowerCase(),
    ),
  );
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const idleMs = options.sessionIdleMs ?? 30 * 60_000;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_HTTP_SESSIONS;
  const sessions = new Map<string, Session>();
  // Known once listening (port 0 picks a free one); requests only arrive after that.
  let boundPort = options.port;
  // Sessions being initialized count against the cap before their id exists.
  let initializing = 0;

  const isHostAllowed = (header: string | undefined) => {
    if (!header) return false;
    try {
      return allowedHosts.has(new URL(`http://${header}`).hostname.toLowerCase());
    } catch {
      return false;
    }
  };
  const isTokenValid = (header: string | undefined) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return match !== null && timingSafeEqual(hashToken(match[1]!), expectedToken);
  };

  const closeSession = async (id: string, reason: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    logger.info({ reason }, 'closing MCP HTTP session');
    await session.mcp.close().catch(() => undefined);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!isHostAllowed(req.headers.host))
      return sendJsonRpcError(res, 403, -32000, 'Forbidden: Host not allowed');
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin) && !isOwnLoopbackOrigin(origin, boundPort)) {
      return sendJsonRpcError(res, 403, -32000, 'Forbidden: Origin not allowed');
    }
    if (path !== MCP_PATH)
      return sendJsonRpcError(res, 404, -32000, `Not found: the MCP endpoint is ${MCP_PATH}`);
    if (!isTokenValid(req.headers.authorization)) {
      return sendJsonRpcError(res, 401, -32000, 'Unauthorized: send Authorization: Bearer <SML_MCP_TOKEN>', {
        'www-authenticate': 'Bearer realm="sml-mcp", error="invalid_token"',
      });
    }
    (req as IncomingMessage & { auth?: unknown }).auth = {
      token: 'static',
      clientId: 'sml-mcp-token',
      scopes: [],
      expiresAt: Math.floor(Date.now() / 1000) + AUTH_INFO_TTL_S,
    };
    const sessionId = req.headers['mcp-session-id'];
    const session = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (typeof sessionId === 'string' && !session) {
      return sendJsonRpcError(res, 404, -32001, 'Session not found; initialize a new session');
    }

    if (req.method !== 'POST') {
      if (!session) return sendJsonRpcError(res, 400, -32000, 'Bad request: missing Mcp-Session-Id');
      // A GET stream stays open for as long as the client listens: it is no sign of activity.
      session.lastSeen = Date.now();
      return session.transport.handleRequest(req, res);
    }

    const body = await readBody(req, maxBodyBytes);
    if (body === 'too-large') {
      return sendJsonRpcError(res, 413, -32600, `Request body larger than ${maxBodyBytes} bytes`, {
        connection: 'close',
      });
    }
    let message: unknown;
    try {
      message = JSON.parse(body.toString('utf8'));
    } catch {
      return sendJsonRpcError(res, 400, -32700, 'Parse error: the body is not JSON');
    }
    if (session) return serveInSession(session, req, res, message);
    if (!isInitializeRequest(message)) {
      return sendJsonRpcError(res, 400, -32000, 'Bad request: no session; send initialize first');
    }
    if (sessions.size + initializing >= maxSessions) {
      logger.warn({ sessions: sessions.size, maxSessions }, 'MCP HTTP session refused: too many sessions');
      return sendJsonRpcError(
        res,
        503,
        -32000,
        `Too many sessions: this server holds at most ${maxSessions} open sessions. Retry after ${FULL_RETRY_AFTER_S} s, and end sessions you no longer use (HTTP DELETE with their Mcp-Session-Id).`,
        { 'retry-after': String(FULL_RETRY_AFTER_S) },
      );
    }
    initializing++;
    try {
      const mcp = createMcpServer(deps);
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (id) => {
          sessions.set(id, { transport, mcp, lastSeen: Date.now(), openRequests: 0 });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await mcp.connect(transport);
      await transport.handleRequest(req, res, message);
    } finally {
      initializing--;
    }
  };

  /** A POST of an open session: the session counts as busy until its answer is sent. */
  const serveInSession = (session: Session, req: IncomingMessage, res: ServerResponse, body: unknown) => {
    session.openRequests++;
    session.lastSeen = Date.now();
    res.once('close', () => {
      session.openRequests--;
      session.lastSeen = Date.now();
    });
    return session.transport.handleRequest(req, res, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error(
        { err: deps.config.redact(error instanceof Error ? error.message : String(error)) },
        'HTTP request failed',
      );
      sendJsonRpcError(res, 500, -32603, 'Internal server error');
    });
  });

  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [id, session] of sessions) {
        if (session.openRequests === 0 && now - session.lastSeen > idleMs) void closeSession(id, 'idle');
      }
    },
    Math.max(50, Math.min(idleMs / 2, 30_000)),
  );
  sweep.unref();

  await new Promise<void>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => {
      clearInterval(sweep);
      reject(listenError(error, options.host, options.port));
    };
    server.once('error', fail);
    server.listen(options.port, options.host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  boundPort = address.port;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}${MCP_PATH}`;
  logger.info({ url }, 'sml-mcp serving MCP over Streamable HTTP');

  return {
    url,
    port: address.port,
    sessionCount: () => sessions.size,
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.keys()].map((id) => closeSession(id, 'shutdown')));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Why the server cannot listen, as an error the operator can act on. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): SmlError {
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (error.code === 'EADDRINUSE') {
    return new SmlError('CONFLICT', `Cannot serve on ${address}: the port is already in use.`, {
      hint: 'Stop the other server on that port, or choose another one with --http HOST:PORT.',
      cause: error,
    });
  }
  if (error.code === 'EACCES') {
    return new SmlError('PERMISSION_DENIED', `Cannot serve on ${address}: permission denied.`, {
      hint: 'Ports below 1024 need privileges; choose a port above 1024 with --http HOST:PORT.',
      cause: error,
    });
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new SmlError('INVALID_ARGUMENT', `Cannot serve on ${address}: no such address on this machine.`, {
      hint: 'Give an address of this machine, such as 127.0.0.1, with --http HOST:PORT.',
      cause: error,
    });
  }
  return new SmlError('INTERNAL', `Cannot serve on ${address}: ${error.message}.`, { cause: error });
}
