import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { type FaultRequest, type FaultRule, Faults } from './faults.js';
import { checkPath, DoubleFiles, type FileSystemRoot, headTail, sliceCodePoints } from './files.js';
import {
  emptyReply,
  HttpFailure,
  jsonReply,
  parseMultipart,
  queryBoolean,
  queryInteger,
  type Reply,
  validationFailure,
} from './http.js';
import { type JobObject, SlurmCluster } from './slurm.js';

/**
 * A FirecREST v2 test double that follows ../shared/reference/firecrest-v2-api.md: the endpoints
 * a job client uses, with the server's shapes, status codes, error body, limits and quirks. Jobs
 * run on the local SLURM cluster; files live on this machine under the user's mapped home.
 */

export interface FirecrestDoubleOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Path prefix of the API, e.g. `/api/v2` (default none). */
  basePath?: string;
  /** The one system served (default `local`). */
  system?: string;
  /** User the API acts as (default: the OS user running the double, who runs the SLURM commands). */
  user?: string;
  /** The user's home; default a fresh temp dir `<tmp>/f7t-double-XXXX/users/<user>`. */
  home?: string;
  /** Filesystem roots; default one `users` root: the home's parent. */
  fileSystems?: FileSystemRoot[];
  clientId?: string;
  clientSecret?: string;
  /** Keys accepted in `X-API-Key` (the PAT gateway mode); none by default. */
  apiKeys?: string[];
  tokenLifetimeSeconds?: number;
  /** Tokens with less validity left are refused (default min(30, lifetime / 4)). */
  minTokenTtlSeconds?: number;
  /** `max_ops_file_size` (default 5 MiB), also the command output buffer. */
  maxOpsFileSize?: number;
  /** Environment of the SLURM commands (default process.env). */
  slurmEnv?: NodeJS.ProcessEnv;
  /** Limit of one remote command (default 5 s, the server's `timeout 5`); past it → 408. */
  commandTimeoutMs?: number;
  /** Quirk: the first N polls of a freshly submitted job answer 404 `Job not found.` (default 0). */
  jobNotFoundPolls?: number;
  /**
   * Quirk: the first N reads of a freshly submitted job (by id or in a list) show SLURM's accounting
   * placeholder for a job that has not started (name `allocation`, no working directory, PENDING),
   * which the server's merge lets win while squeue already shows the job started (default 0).
   */
  placeholderPolls?: number;
}

export interface DoubleCounters {
  requests: number;
  /** Bytes written to client sockets (status line, headers and bodies). */
  bytesSent: number;
  /** Bytes sent per route, e.g. `GET /filesystem/{system}/ops/tail`. */
  bytesByRoute: Record<string, number>;
  byStatus: Record<string, number>;
  tokensIssued: number;
  /** sbatch runs. */
  submits: number;
  cancels: number;
}

export interface RecordedRequest {
  method: string;
  /** Path as sent (not lower-cased), without the query. */
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface FirecrestDouble {
  /** Base URL of the API (`http://host:port<basePath>`). */
  readonly url: string;
  /** The OIDC token endpoint. */
  readonly tokenUri: string;
  readonly system: string;
  readonly user: string;
  readonly home: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly maxOpsFileSize: number;
  readonly faults: Faults;
  readonly counters: DoubleCounters;
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[];
  /** Zero the counters and forget recorded requests. */
  resetCounters(): void;
  stop(): Promise<void>;
  /** Same as stop(). */
  close(): Promise<void>;
}

interface IssuedToken {
  user: string;
  expiresAt: number;
  epoch: number;
}

const TOKEN_PATH = '/auth/token';
const ADMIN_PREFIX = '/__admin/';
const BODY_LIMIT = 64 * 1024 * 1024;
const TIME_WINDOWS: Record<string, string> = {
  '1h': 'now-1hours',
  '8h': 'now-8hours',
  '24h': 'now-24hours',
  '3d': 'now-3days',
  '7d': 'now-7days',
};

function newCounters(): DoubleCounters {
  return {
    requests: 0,
    bytesSent: 0,
    bytesByRoute: {},
    byStatus: {},
    tokensIssued: 0,
    submits: 0,
    cancels: 0,
  };
}

/** Start the double; resolves once it listens. */
export async function startFirecrestDouble(options: FirecrestDoubleOptions = {}): Promise<FirecrestDouble> {
  const user = options.user ?? userInfo().username;
  const home = options.home ?? posix.join(await mkdtemp(posix.join(tmpdir(), 'f7t-double-')), 'users', user);
  await mkdir(home, { recursive: true });
  const state = new DoubleState(options, user, home);
  await state.loadIdentity();
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    state.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        state.write(req, res, new HttpFailure(500, `double: ${(error as Error).message}`).toReply(null), '?');
      }
    });
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;
  const stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `${origin}${state.basePath}`,
    tokenUri: `${origin}${TOKEN_PATH}`,
    system: state.system,
    user,
    home,
    clientId: state.clientId,
    clientSecret: state.clientSecret,
    maxOpsFileSize: state.maxOps,
    faults: state.faults,
    get counters() {
      return state.counters;
    },
    requests: state.requests,
    resetCounters: () => {
      state.counters = newCounters();
      state.requests.length = 0;
    },
    stop,
    close: stop,
  };
}

class DoubleState {
  readonly faults = new Faults();
  counters = newCounters();
  readonly requests: RecordedRequest[] = [];
  readonly basePath: string;
  readonly system: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly maxOps: number;
  private readonly apiKeys: Set<string>;
  private readonly lifetime: number;
  private readonly minTtl: number;
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly roots: FileSystemRoot[];
  private readonly slurm: SlurmCluster;
  private readonly files: DoubleFiles;
  private readonly notFoundPolls = new Map<string, number>();
  private readonly placeholderPolls = new Map<string, number>();
  private readonly socketBytes = new WeakMap<Socket, number>();
  private identity = { uid: '0', gid: '0', group: 'root', groups: [{ id: '0', name: 'root' }] };
  private readonly names = new Map<string, string>();
  private readonly startedAt = new Date();

  constructor(
    private readonly options: FirecrestDoubleOptions,
    readonly user: string,
    readonly home: string,
  ) {
    this.basePath = (options.basePath ?? '').replace(/\/+$/, '').toLowerCase();
    this.system = (options.system ?? 'local').toLowerCase();
    this.clientId = options.clientId ?? 'sml-double-client';
    this.clientSecret = options.clientSecret ?? 'sml-double-secret';
    this.apiKeys = new Set(options.apiKeys ?? []);
    this.lifetime = options.tokenLifetimeSeconds ?? 300;
    this.minTtl = options.minTokenTtlSeconds ?? Math.min(30, this.lifetime / 4);
    this.maxOps = options.maxOpsFileSize ?? 5 * 1024 * 1024;
    this.roots = options.fileSystems ?? [
      { path: posix.dirname(home), dataType: 'users', defaultWorkDir: true },
    ];
    const env = options.slurmEnv ?? process.env;
    this.slurm = new SlurmCluster({ env, commandTimeoutMs: options.commandTimeoutMs ?? 5_000 });
    this.files = new DoubleFiles({
      user: (uid) => (String(uid) === this.identity.uid ? this.user : String(uid)),
      group: (gid) => this.names.get(String(gid)) ?? String(gid),
    });
  }

  async loadIdentity(): Promise<void> {
    const result = await execa('id', [this.user], { reject: false });
    const text = String(result.stdout ?? '');
    const uid = /uid=(\d+)/.exec(text)?.[1] ?? String(userInfo().uid);
    const gidMatch = /gid=(\d+)\(([^)]*)\)/.exec(text);
    const groups = [...(/groups=(.*)$/.exec(text)?.[1] ?? '').matchAll(/(\d+)\(([^)]*)\)/g)].map((m) => ({
      id: m[1]!,
      name: m[2]!,
    }));
    for (const group of groups) this.names.set(group.id, group.name);
    this.identity = {
      uid,
      gid: gidMatch?.[1] ?? '0',
      group: gidMatch?.[2] ?? 'root',
      groups: groups.length > 0 ? groups : [{ id: gidMatch?.[1] ?? '0', name: gidMatch?.[2] ?? 'root' }],
    };
    if (gidMatch) this.names.set(gidMatch[1]!, gidMatch[2]!);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const method = (req.method ?? 'GET').toUpperCase();
    this.counters.requests++;
    this.requests.push({ method, path: url.pathname, query: url.search, headers: { ...req.headers } });
    // The server lower-cases the whole path before routing (query strings are untouched).
    const lowered = url.pathname.toLowerCase();
    if (lowered.startsWith(ADMIN_PREFIX)) {
      const body = await readBody(req);
      return this.write(req, res, this.admin(method, lowered, body), 'admin');
    }
    const isToken = lowered === TOKEN_PATH;
    const routePath = isToken
      ? lowered
      : lowered.startsWith(`${this.basePath}/`) || lowered === this.basePath
        ? lowered.slice(this.basePath.length)
        : undefined;
    const fault = this.faults.take(method, routePath ?? lowered, !isToken && routePath !== undefined);
    if (fault?.kind === 'delay') await sleep(fault.delayMs);
    if (fault?.kind === 'hang') return; // never answered; the socket closes when the client gives up
    if (fault?.kind === 'drop' && !fault.afterAction) {
      req.socket.destroy();
      return;
    }
    const body = await readBody(req);
    let reply: Reply;
    let route = '?';
    if (fault?.kind === 'rate-limit') {
      reply = jsonReply(
        429,
        { errorType: 'error', message: 'Too Many Requests', causedBy: null, data: null, user: null },
        { 'retry-after': fault.retryAfter },
      );
    } else if (fault?.kind === 'redirect') {
      reply = { status: 307, headers: { location: fault.location }, body: Buffer.alloc(0) };
    } else if (fault?.kind === 'fail' && !fault.afterAction) {
      reply = this.injectedFailure(fault);
    } else if (isToken) {
      route = 'POST /auth/token';
      reply = this.tokenEndpoint(method, req, body);
    } else if (routePath === undefined) {
      reply = new HttpFailure(404, 'Not Found').toReply(null);
    } else {
      const dispatched = await this.dispatch(method, routePath, url.searchParams, req, body);
      reply = dispatched.reply;
      route = dispatched.route;
    }
    if (fault?.kind === 'drop' && fault.afterAction) {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'fail' && fault.afterAction) reply = this.injectedFailure(fault);
    this.write(req, res, reply, route);
  }

  write(req: IncomingMessage, res: ServerResponse, reply: Reply, route: string): void {
    const socket = req.socket;
    res.on('finish', () => {
      const before = this.socketBytes.get(socket) ?? 0;
      const delta = socket.bytesWritten - before;
      this.socketBytes.set(socket, socket.bytesWritten);
      this.counters.bytesSent += delta;
      this.counters.bytesByRoute[route] = (this.counters.bytesByRoute[route] ?? 0) + delta;
    });
    this.counters.byStatus[reply.status] = (this.counters.byStatus[reply.status] ?? 0) + 1;
    res.writeHead(reply.status, {
      ...reply.headers,
      'f7t-timestamp': String(Date.now() / 1000),
      'f7t-appversion': '2.x.x',
      'content-length': String(reply.body.length),
    });
    res.end(reply.body);
  }

  private injectedFailure(fault: Extract<FaultRule, { kind: 'fail' }>): Reply {
    const message =
      fault.message ??
      (fault.status === 503
        ? `The scheduler service for the requested system (${this.system}) is unhealthy.`
        : fault.status === 502
          ? 'Bad Gateway'
          : fault.status === 504
            ? 'Gateway Timeout'
            : 'Internal Server Error');
    return new HttpFailure(fault.status, message).toReply(null);
  }

  private admin(method: string, path: string, body: Buffer): Reply {
    if (path === '/__admin/counters' && method === 'GET') return jsonReply(200, this.counters);
    if (path === '/__admin/reset' && method === 'POST') {
      this.faults.clear();
      this.counters = newCounters();
      this.requests.length = 0;
      return emptyReply();
    }
    if (path === '/__admin/expire-tokens' && method === 'POST') {
      this.faults.expireTokens();
      return emptyReply();
    }
    if (path === '/__admin/faults' && method === 'POST') {
      try {
        this.faults.add(JSON.parse(body.toString('utf8') || '{}') as FaultRequest);
      } catch (error) {
        return jsonReply(400, { message: (error as Error).message });
      }
      return emptyReply();
    }
    return jsonReply(404, { message: 'Not Found' });
  }

  // --- authentication -------------------------------------------------------------------------

  private tokenEndpoint(method: string, req: IncomingMessage, body: Buffer): Reply {
    if (method !== 'POST') return jsonReply(405, { error: 'method_not_allowed' });
    const form = new URLSearchParams(body.toString('utf8'));
    let clientId = form.get('client_id');
    let clientSecret = form.get('client_secret');
    const basic = /^Basic\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    if (basic) {
      const decoded = Buffer.from(basic, 'base64').toString('utf8');
      const at = decoded.indexOf(':');
      clientId = decodeURIComponent(decoded.slice(0, at));
      clientSecret = decodeURIComponent(decoded.slice(at + 1));
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return jsonReply(400, { error: 'unsupported_grant_type', error_description: 'Unsupported grant_type' });
    }
    if (clientId !== this.clientId || clientSecret !== this.clientSecret) {
      return jsonReply(401, {
        error: 'unauthorized_client',
        error_description: 'Invalid client or Invalid client credentials',
      });
    }
    const token = makeJwtLike(this.user, this.lifetime);
    this.tokens.set(token, {
      user: this.user,
      expiresAt: Date.now() + this.lifetime * 1000,
      epoch: this.faults.tokenEpoch,
    });
    this.counters.tokensIssued++;
    return jsonReply(200, {
      access_token: token,
      expires_in: this.lifetime,
      refresh_expires_in: 0,
      token_type: 'Bearer',
      'not-before-policy': 0,
      scope: 'profile email firecrest-v2',
    });
  }

  /** The authenticated user, or the 401 the server answers. */
  private authenticate(req: IncomingMessage): string {
    const apiKey = req.headers['x-api-key'];
    if (typeof apiKey === 'string' && this.apiKeys.size > 0) {
      if (this.apiKeys.has(apiKey)) return this.user;
      throw new HttpFailure(401, 'Invalid API key.');
    }
    const header = String(req.headers.authorization ?? '');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new HttpFailure(401, 'Not authenticated', { headers: { 'www-authenticate': 'Bearer' } });
    }
    const token = match[1]!;
    // Quirk: token-validation 401s echo the presented token in an `auth-token` header.
    const echo = { 'auth-token': token };
    const issued = this.tokens.get(token);
    if (!issued) throw new HttpFailure(401, 'Access token is invalid.', { headers: echo });
    const now = Date.now();
    if (now >= issued.expiresAt || issued.epoch < this.faults.tokenEpoch) {
      throw new HttpFailure(401, 'Access token expired', { headers: echo });
    }
    if (issued.expiresAt - now < this.minTtl * 1000) {
      throw new HttpFailure(
        401,
        `Access token expires too soon (less than ${Math.round(this.minTtl)}s remaining).`,
        { headers: echo },
      );
    }
    return issued.user;
  }

  // --- routing --------------------------------------------------------------------------------

  private async dispatch(
    method: string,
    path: string,
    query: URLSearchParams,
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ reply: Reply; route: string }> {
    const routes = this.routes();
    const liveness = path === '/status/liveness/';
    // FastAPI redirects the other trailing-slash form with 307.
    if (
      !liveness &&
      path.length > 1 &&
      path.endsWith('/') &&
      routes.some((r) => r.pattern.test(path.slice(0, -1)))
    ) {
      return {
        reply: {
          status: 307,
          headers: { location: `${this.basePath}${path.slice(0, -1)}` },
          body: Buffer.alloc(0),
        },
        route: 'redirect',
      };
    }
    const candidates = routes.filter((r) => r.pattern.test(path));
    if (candidates.length === 0)
      return { reply: new HttpFailure(404, 'Not Found').toReply(null), route: '?' };
    const route = candidates.find((r) => r.method === method);
    if (!route) return { reply: new HttpFailure(405, 'Method Not Allowed').toReply(null), route: '?' };
    const name = `${route.method} ${route.name}`;
    let user: string | null = null;
    try {
      if (!route.isPublic) user = this.authenticate(req);
      const params = route.pattern.exec(path)!.slice(1);
      const reply = await route.handler({ params, query, body, req, user: user ?? '' });
      return { reply, route: name };
    } catch (error) {
      if (error instanceof HttpFailure) return { reply: error.toReply(user), route: name };
      return { reply: new HttpFailure(500, (error as Error).message).toReply(user), route: name };
    }
  }

  private routes(): Route[] {
    const sys = '([^/]+)';
    const status = (name: string, handler: Handler): Route => ({
      method: 'GET',
      name: `/status/{system}/${name}`,
      pattern: new RegExp(`^/status/${sys}/${name}$`),
      handler: async (ctx) => {
        // The system is checked by a dependency, before the handler's own error mapping: a plain 404.
        this.requireSystem(ctx.params[0]!);
        try {
          return await handler(ctx);
        } catch (error) {
          // Status endpoints re-wrap every failure as a 500 with the inner status as a prefix.
          if (error instanceof HttpFailure && error.status !== 500) {
            throw new HttpFailure(500, `${error.status}: ${error.message}`);
          }
          throw error;
        }
      },
    });
    const ops = (method: string, name: string, handler: Handler): Route => ({
      method,
      name: `/filesystem/{system}/ops/${name}`,
      pattern: new RegExp(`^/filesystem/${sys}/ops/${name}$`),
      handler: (ctx) => {
        this.requireSystem(ctx.params[0]!);
        return handler(ctx);
      },
    });
    const compute = (method: string, suffix: string, handler: Handler): Route => ({
      method,
      name: `/compute/{system}/jobs${suffix ? '/{jobId}' : ''}`,
      pattern: new RegExp(`^/compute/${sys}/jobs${suffix}$`),
      handler: (ctx) => {
        this.requireSystem(ctx.params[0]!);
        return handler(ctx);
      },
    });
    return [
      {
        method: 'GET',
        name: '/status/liveness/',
        pattern: /^\/status\/liveness\/$/,
        isPublic: true,
        handler: () => this.liveness(),
      },
      {
        method: 'GET',
        name: '/status/systems',
        pattern: /^\/status\/systems$/,
        handler: () => this.systems(),
      },
      status('partitions', (ctx) => this.partitions(ctx)),
      status('reservations', () => this.reservations()),
      status('userinfo', () => this.userinfo()),
      compute('POST', '', (ctx) => this.submit(ctx)),
      compute('GET', '', (ctx) => this.listJobs(ctx)),
      compute('GET', '/([^/]+)', (ctx) => this.getJob(ctx)),
      compute('DELETE', '/([^/]+)', (ctx) => this.cancelJob(ctx)),
      ops('POST', 'mkdir', (ctx) => this.mkdir(ctx)),
      ops('POST', 'upload', (ctx) => this.upload(ctx)),
      ops('GET', 'download', (ctx) => this.download(ctx)),
      ops('GET', 'view', (ctx) => this.view(ctx)),
      ops('GET', 'head', (ctx) => this.headOrTail(ctx, 'head')),
      ops('GET', 'tail', (ctx) => this.headOrTail(ctx, 'tail')),
      ops('GET', 'stat', (ctx) => this.stat(ctx)),
      ops('GET', 'ls', (ctx) => this.ls(ctx)),
      ops('DELETE', 'rm', (ctx) => this.rm(ctx)),
      ops('PUT', 'chmod', (ctx) => this.chmod(ctx)),
      ops('GET', 'checksum', (ctx) => this.checksum(ctx)),
    ];
  }

  private requireSystem(name: string): void {
    if (decodeURIComponent(name) !== this.system) throw new HttpFailure(404, 'System not found');
  }

  // --- status ---------------------------------------------------------------------------------

  private liveness(): Reply {
    return jsonReply(200, {
      healthcheckRuns: { [this.system]: new Date().toISOString() },
      lastUpdate: Math.round((Date.now() - this.startedAt.getTime()) / 1000) % 120,
    });
  }

  private systems(): Reply {
    const checked = new Date().toISOString();
    return jsonReply(200, {
      systems: [
        {
          name: this.system,
          ssh: {
            host: '127.0.0.1',
            port: 22,
            proxyHost: null,
            proxyPort: null,
            maxClients: 100,
            timeout: { connection: 5, login: 5, commandExecution: 5, idleTimeout: 60, keepAlive: 5 },
          },
          scheduler: {
            type: 'slurm',
            connectionMode: 'ssh',
            version: '22.05.8',
            apiUrl: null,
            apiVersion: null,
            timeout: 10,
          },
          servicesHealth: [
            { serviceType: 'scheduler', lastChecked: checked, latency: 0.01, healthy: true, message: null },
            ...this.roots.map((root) => ({
              serviceType: 'filesystem',
              lastChecked: checked,
              latency: 0.01,
              healthy: true,
              message: null,
              path: root.path,
            })),
          ],
          probing: { services: { ssh: { timeout: 5 }, scheduler: { timeout: 5 } }, intervalCheck: 120 },
          lastHealthCheck: null,
          fileSystems: this.roots,
          dataOperation: {
            datatransfer_jobs_directives: ['#SBATCH --nodes=1'],
            max_ops_file_size: this.maxOps,
            data_transfer: {
              serviceType: 's3',
              name: 's3-double',
              privateUrl: '**********',
              publicUrl: 'http://127.0.0.1:9000',
              region: 'local',
              ttl: 604800,
              tenant: null,
              multipart: { use_split: false, max_part_size: 1073741824, parallel_runs: 3, tmp_folder: 'tmp' },
              bucketLifecycleConfiguration: { days: 10 },
            },
          },
        },
      ],
    });
  }

  private async partitions(ctx: Context): Promise<Reply> {
    const partitions = await this.slurm.partitions(queryBoolean(ctx.query, 'show_hidden', false));
    return jsonReply(200, { partitions });
  }

  private async reservations(): Promise<Reply> {
    return jsonReply(200, { reservations: await this.slurm.reservations() });
  }

  private async userinfo(): Promise<Reply> {
    return jsonReply(200, {
      user: { id: this.identity.uid, name: this.user },
      group: { id: this.identity.gid, name: this.identity.group },
      groups: this.identity.groups,
      accounts: await this.slurm.accounts(this.user),
    });
  }

  // --- compute --------------------------------------------------------------------------------

  private async submit(ctx: Context): Promise<Reply> {
    let payload: unknown;
    try {
      payload = JSON.parse(ctx.body.toString('utf8'));
    } catch {
      throw validationFailure([{ location: 'body', name: null, message: 'JSON decode error' }]);
    }
    const job = (payload as { job?: unknown } | null)?.job;
    if (typeof job !== 'object' || job === null || Array.isArray(job)) {
      throw validationFailure([{ location: 'body', name: 'job', message: 'Field required' }]);
    }
    const fields = job as Record<string, unknown>;
    const pick = (...names: string[]): string | undefined => {
      for (const name of names) if (typeof fields[name] === 'string') return fields[name] as string;
      return undefined;
    };
    const workingDirectory = pick('workingDirectory', 'working_directory', 'current_working_directory');
    if (workingDirectory === undefined) {
      // Only the second path element is reported, so the name is `job`.
      throw validationFailure([{ location: 'body', name: 'job', message: 'Field required' }]);
    }
    const env = fields.env ?? fields.environment ?? { F7T_version: 'v2.0.0' };
    if (Array.isArray(env) || typeof env !== 'object' || env === null) {
      throw new HttpFailure(500, "'list' object has no attribute 'items'");
    }
    this.counters.submits++;
    const jobId = await this.slurm.submit(
      {
        script: pick('script'),
        scriptPath: pick('scriptPath', 'script_path'),
        workingDirectory,
        name: pick('name'),
        account: pick('account'),
        partition: pick('partition'),
        reservation: pick('reservation'),
        standardInput: pick('standardInput', 'standard_input'),
        standardOutput: pick('standardOutput', 'standard_output'),
        standardError: pick('standardError', 'standard_error'),
        constraints: pick('constraints'),
        env: Object.fromEntries(
          Object.entries(env as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
        ),
      },
      // Jobs see the mapped home as $HOME, as on a real cluster.
      { HOME: this.home, USER: this.user },
    );
    const polls = this.options.jobNotFoundPolls ?? 0;
    if (polls > 0) this.notFoundPolls.set(jobId, polls);
    const placeholders = this.options.placeholderPolls ?? 0;
    if (placeholders > 0) this.placeholderPolls.set(jobId, placeholders);
    return jsonReply(201, { jobId });
  }

  private async listJobs(ctx: Context): Promise<Reply> {
    const allUsers = queryBoolean(ctx.query, 'allusers', false);
    const name = ctx.query.get('name') ?? undefined;
    if (name !== undefined && name.length > 235) {
      throw validationFailure([
        { location: 'query', name: 'name', message: 'String should have at most 235 characters' },
      ]);
    }
    const window = ctx.query.get('time_window') ?? '24h';
    if (!(window in TIME_WINDOWS)) {
      throw validationFailure([
        {
          location: 'query',
          name: 'time_window',
          message: "Input should be '1h', '8h', '24h', '3d' or '7d'",
        },
      ]);
    }
    const jobs = await this.slurm.jobs({
      user: allUsers ? undefined : ctx.user,
      name: name || undefined,
      account: ctx.query.get('account') || undefined,
      since: TIME_WINDOWS[window],
    });
    return jsonReply(200, { jobs: jobs.map((job) => this.withPlaceholderQuirk(job)) });
  }

  private jobIdParam(ctx: Context): string {
    const jobId = decodeURIComponent(ctx.params[1]!);
    if (!/^[a-zA-Z0-9]+$/.test(jobId)) {
      throw validationFailure([
        { location: 'path', name: 'job_id', message: "String should match pattern '^[a-zA-Z0-9]+$'" },
      ]);
    }
    return jobId;
  }

  private async getJob(ctx: Context): Promise<Reply> {
    const jobId = this.jobIdParam(ctx);
    const remaining = this.notFoundPolls.get(jobId);
    if (remaining !== undefined) {
      if (remaining <= 1) this.notFoundPolls.delete(jobId);
      else this.notFoundPolls.set(jobId, remaining - 1);
      throw new HttpFailure(404, 'Job not found.');
    }
    const jobs: JobObject[] = await this.slurm.jobs({ jobId });
    if (jobs.length === 0) throw new HttpFailure(404, 'Job not found.');
    return jsonReply(200, { jobs: jobs.map((job) => this.withPlaceholderQuirk(job)) });
  }

  /** The job as SLURM's placeholder accounting row while its `placeholderPolls` last. */
  private withPlaceholderQuirk(job: JobObject): JobObject {
    const remaining = this.placeholderPolls.get(job.jobId);
    if (remaining === undefined) return job;
    if (remaining <= 1) this.placeholderPolls.delete(job.jobId);
    else this.placeholderPolls.set(job.jobId, remaining - 1);
    return {
      ...job,
      name: 'allocation',
      workingDirectory: '',
      status: { ...job.status, state: 'PENDING', stateReason: 'None', exitCode: null },
    };
  }

  private async cancelJob(ctx: Context): Promise<Reply> {
    const jobId = this.jobIdParam(ctx);
    this.counters.cancels++;
    await this.slurm.cancel(jobId);
    return emptyReply(204);
  }

  // --- filesystem -----------------------------------------------------------------------------

  private queryPath(ctx: Context): string {
    const path = ctx.query.get('path');
    if (path === null)
      throw validationFailure([{ location: 'query', name: 'path', message: 'Field required' }]);
    return checkPath(path, this.roots, this.system);
  }

  private bodyJson(ctx: Context): Record<string, unknown> {
    try {
      const value = JSON.parse(ctx.body.toString('utf8')) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw validationFailure([{ location: 'body', name: null, message: 'JSON decode error' }]);
  }

  private bodyPath(body: Record<string, unknown>): string {
    const path = body.path ?? body.sourcePath ?? body.source_path;
    if (typeof path !== 'string') {
      throw new HttpFailure(
        400,
        'Unable to decode request and retreive the required path or source_path parameter.',
      );
    }
    return checkPath(path, this.roots, this.system);
  }

  private async mkdir(ctx: Context): Promise<Reply> {
    const body = this.bodyJson(ctx);
    const path = this.bodyPath(body);
    const parent = body.parent === true;
    return jsonReply(201, { output: await this.files.mkdir(path, parent) });
  }

  private async upload(ctx: Context): Promise<Reply> {
    const directory = this.queryPath(ctx);
    const part = parseMultipart(ctx.body, String(ctx.req.headers['content-type'] ?? '')).find(
      (p) => p.name === 'file',
    );
    if (!part || part.filename === undefined) {
      throw validationFailure([{ location: 'body', name: 'file', message: 'Field required' }]);
    }
    if (part.data.length > this.maxOps) throw new HttpFailure(413, 'File to upload is too large.');
    await this.files.upload(directory, part.filename, part.data);
    return emptyReply(204);
  }

  private async download(ctx: Context): Promise<Reply> {
    const path = this.queryPath(ctx);
    const data = await this.files.download(path);
    // The file travels base64-encoded through the command output buffer.
    if (Math.ceil(data.length / 3) * 4 >= this.maxOps)
      throw new HttpFailure(413, 'Command output exceeded buffer limit.');
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: data };
  }

  private async view(ctx: Context): Promise<Reply> {
    const path = this.queryPath(ctx);
    const offset = queryInteger(ctx.query, 'offset') ?? 0;
    const size = queryInteger(ctx.query, 'size') ?? this.maxOps;
    if (offset < 0)
      throw new HttpFailure(400, '`offset` value must be an integer value equal or greater than 0');
    if (size <= 0) throw new HttpFailure(400, '`size` value must be an integer value greater than 0');
    if (size > this.maxOps)
      throw new HttpFailure(400, `\`size\` value must be less than ${this.maxOps} bytes`);
    const blockStart = Math.floor(offset / size) * size;
    const data = await this.files.readBytes(path, blockStart, 2 * size);
    if (data.length >= this.maxOps) throw new HttpFailure(413, 'Command output exceeded buffer limit.');
    return jsonReply(200, { output: sliceCodePoints(data.toString('utf8'), offset % size, size) });
  }

  private async headOrTail(ctx: Context, kind: 'head' | 'tail'): Promise<Reply> {
    const path = this.queryPath(ctx);
    const lines = queryInteger(ctx.query, 'lines');
    const bytes = queryInteger(ctx.query, 'bytes');
    const skip = queryBoolean(ctx.query, kind === 'head' ? 'skipTrailing' : 'skipHeading', false);
    if (lines !== undefined && bytes !== undefined) {
      throw new HttpFailure(400, 'Only one of `bytes` or `lines` can be specified.');
    }
    const size = await this.files.size(path);
    // tail -c +N reads only the rest of the file; everything else reads the whole file.
    const start = kind === 'tail' && bytes !== undefined && skip ? Math.min(size, Math.max(0, bytes - 1)) : 0;
    const data = await this.files.readBytes(path, start, size - start);
    const result =
      start > 0
        ? { content: data, contentType: 'bytes' as const, startPosition: bytes!, endPosition: -1 }
        : headTail(data, kind, { lines, bytes, skip });
    if (result.content.length >= this.maxOps)
      throw new HttpFailure(413, 'Command output exceeded buffer limit.');
    return jsonReply(200, {
      output: {
        content: result.content.toString('utf8'),
        contentType: result.contentType,
        startPosition: result.startPosition,
        endPosition: result.endPosition,
      },
    });
  }

  private async stat(ctx: Context): Promise<Reply> {
    const path = this.queryPath(ctx);
    return jsonReply(200, {
      output: await this.files.statOf(path, queryBoolean(ctx.query, 'dereference', false)),
    });
  }

  private async ls(ctx: Context): Promise<Reply> {
    const path = this.queryPath(ctx);
    const output = await this.files.list(path, {
      showHidden: queryBoolean(ctx.query, 'showHidden', false),
      recursive: queryBoolean(ctx.query, 'recursive', false),
    });
    return jsonReply(200, { output });
  }

  private async rm(ctx: Context): Promise<Reply> {
    await this.files.remove(this.queryPath(ctx));
    return emptyReply(204);
  }

  private async chmod(ctx: Context): Promise<Reply> {
    const body = this.bodyJson(ctx);
    const path = this.bodyPath(body);
    if (typeof body.mode !== 'string') {
      throw validationFailure([{ location: 'body', name: 'mode', message: 'Field required' }]);
    }
    return jsonReply(200, { output: await this.files.chmod(path, body.mode) });
  }

  private async checksum(ctx: Context): Promise<Reply> {
    const checksum = await this.files.checksum(this.queryPath(ctx));
    return jsonReply(200, { output: { algorithm: 'SHA256', checksum } });
  }
}

interface Context {
  params: string[];
  query: URLSearchParams;
  body: Buffer;
  req: IncomingMessage;
  user: string;
}

type Handler = (ctx: Context) => Reply | Promise<Reply>;

interface Route {
  method: string;
  /** Route template for counters, e.g. `/compute/{system}/jobs`. */
  name: string;
  pattern: RegExp;
  handler: Handler;
  isPublic?: boolean;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > BODY_LIMIT) throw new HttpFailure(413, 'Request body too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function makeJwtLike(user: string, lifetime: number): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const header = encode({ alg: 'RS256', typ: 'JWT', kid: 'double' });
  const payload = encode({
    preferred_username: user,
    iat: now,
    exp: now + lifetime,
    jti: randomBytes(8).toString('hex'),
  });
  return `${header}.${payload}.${randomBytes(24).toString('base64url')}`;
}
