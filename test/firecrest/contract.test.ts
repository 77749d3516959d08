/**
 * Contract tests: the double's real answers checked against the shapes, status codes and quirks
 * written down in ../shared/reference/firecrest-v2-api.md (schemas transcribed from it below).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { FirecrestDouble } from '../doubles/firecrest/index.js';
import { describeOnCluster, waitFor } from '../helpers/cluster.js';
import { fetchToken, sleepScript, startDouble } from './harness.js';

// --- shapes from the reference (§3-§6) -------------------------------------------------------

const ErrorBody = z.strictObject({
  errorType: z.enum(['error', 'validation']),
  message: z.string(),
  causedBy: z.array(z.string()).nullable(),
  data: z
    .object({
      fields: z.array(
        z.strictObject({
          location: z.enum(['body', 'query', 'path']),
          name: z.string().nullable(),
          message: z.string(),
        }),
      ),
    })
    .nullable(),
  user: z.string().nullable(),
});

const SystemsBody = z.object({
  systems: z.array(
    z.object({
      name: z.string(),
      ssh: z.object({
        host: z.string(),
        port: z.number().int(),
        timeout: z.object({ commandExecution: z.number() }),
      }),
      scheduler: z.object({
        type: z.string(),
        connectionMode: z.string(),
        version: z.string(),
        apiUrl: z.string().nullable(),
        apiVersion: z.string().nullable(),
        timeout: z.number(),
      }),
      servicesHealth: z
        .array(
          z.object({
            serviceType: z.enum(['scheduler', 'ssh', 'filesystem', 's3', 'exception']),
            lastChecked: z.string(),
            latency: z.number(),
            healthy: z.boolean(),
            message: z.string().nullable(),
          }),
        )
        .nullable(),
      probing: z.object({ intervalCheck: z.number() }),
      lastHealthCheck: z.unknown(),
      fileSystems: z.array(
        z.strictObject({
          path: z.string(),
          dataType: z.enum(['users', 'store', 'archive', 'apps', 'scratch', 'project']),
          defaultWorkDir: z.boolean(),
        }),
      ),
      // snake_case inside dataOperation (quirk 11).
      dataOperation: z.object({
        datatransfer_jobs_directives: z.array(z.string()),
        max_ops_file_size: z.number().int().positive(),
        data_transfer: z.object({ serviceType: z.string(), privateUrl: z.literal('**********') }),
      }),
    }),
  ),
});

const UserInfoBody = z.strictObject({
  user: z.strictObject({ id: z.string(), name: z.string() }),
  group: z.strictObject({ id: z.string(), name: z.string() }),
  groups: z.array(z.strictObject({ id: z.string(), name: z.string() })),
  accounts: z.array(z.strictObject({ name: z.string(), default: z.boolean() })).nullable(),
});

const PartitionsBody = z.strictObject({
  partitions: z.array(
    z.strictObject({
      name: z.string(),
      cpus: z.number().int(),
      totalNodes: z.number().int(),
      partition: z.union([z.string(), z.array(z.string())]),
    }),
  ),
});

const ReservationsBody = z.strictObject({
  reservations: z.array(
    z.strictObject({
      name: z.string(),
      nodeList: z.string(),
      startTime: z.number().int(),
      endTime: z.number().int(),
      features: z.string().nullable(),
      state: z.string(),
    }),
  ),
});

const NullableInt = z.number().int().nullable();
const Job = z.strictObject({
  jobId: z.string(),
  name: z.string(),
  status: z.strictObject({
    state: z.string(),
    stateReason: z.string().nullable(),
    exitCode: NullableInt,
    interruptSignal: NullableInt,
  }),
  tasks: z.array(z.unknown()).nullable(),
  time: z.strictObject({
    elapsed: NullableInt,
    start: NullableInt,
    end: NullableInt,
    suspended: NullableInt,
    limit: NullableInt,
  }),
  account: z.string().nullable(),
  allocationNodes: z.number().int(),
  cluster: z.string(),
  group: z.string().nullable(),
  nodes: z.string(),
  partition: z.string(),
  killRequestUser: z.null(),
  user: z.string().nullable(),
  workingDirectory: z.string(),
  priority: NullableInt,
});
const JobsBody = z.strictObject({ jobs: z.array(Job) });

const FileEntry = z.strictObject({
  name: z.string(),
  type: z.string().length(1),
  linkTarget: z.string().nullable(),
  user: z.string(),
  group: z.string(),
  permissions: z.string().regex(/^[rwx-]{9}$/),
  lastModified: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
  size: z.string().regex(/^\d+$/),
});
const StatBody = z.strictObject({
  output: z.strictObject({
    mode: z.number().int(),
    ino: z.number().int(),
    dev: z.number().int(),
    nlink: z.number().int(),
    uid: z.number().int(),
    gid: z.number().int(),
    size: z.number().int(),
    atime: z.number().int(),
    ctime: z.number().int(),
    mtime: z.number().int(),
  }),
});
const FileContentBody = z.strictObject({
  output: z.strictObject({
    content: z.string(),
    contentType: z.enum(['lines', 'bytes']),
    startPosition: z.number().int(),
    endPosition: z.number().int(),
  }),
});

// --- raw HTTP helpers ---------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => unknown;
}

let double: FirecrestDouble;
let token: string;

async function call(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { json?: unknown; body?: Buffer; contentType?: string; auth?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  const auth = options.auth === undefined ? `Bearer ${token}` : options.auth;
  if (auth !== null) headers.authorization = auth;
  let body: string | Buffer | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.body) {
    headers['content-type'] = options.contentType ?? 'application/octet-stream';
    body = options.body;
  }
  const response = await request(`${double.url}${path}`, { method, headers, body });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text, json: () => JSON.parse(text) };
}

function multipart(filename: string, data: Buffer, field = 'file'): { body: Buffer; contentType: string } {
  const boundary = 'contract-boundary';
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\n\r\n`,
      ),
      data,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  };
}

function expectError(answer: Answer, status: number, message: string | RegExp): z.infer<typeof ErrorBody> {
  expect(answer.status).toBe(status);
  const body = ErrorBody.parse(answer.json());
  if (typeof message === 'string') expect(body.message).toBe(message);
  else expect(body.message).toMatch(message);
  return body;
}

const q = encodeURIComponent;
/** A job name unique to this run: earlier runs' jobs stay in the job list for a day. */
const JOB_NAME = `contract~${Date.now().toString(36)}`;

beforeAll(async () => {
  double = await startDouble({ system: 'Daint', maxOpsFileSize: 64 * 1024 });
  token = await fetchToken(double);
});

afterAll(async () => {
  await double?.stop();
});

describe('FirecREST double: conventions, auth and errors (§1-§3)', () => {
  it('sends F7T-Timestamp and F7T-AppVersion on every answer, errors included', async () => {
    for (const answer of [await call('GET', '/status/systems'), await call('GET', '/nowhere')]) {
      expect(String(answer.headers['f7t-timestamp'])).toMatch(/^\d+(\.\d+)?$/);
      expect(answer.headers['f7t-appversion']).toBe('2.x.x');
    }
  });

  it('answers 401 Not authenticated with WWW-Authenticate without a bearer token', async () => {
    for (const auth of [null, 'Basic dXNlcjpwdw==']) {
      const answer = await call('GET', '/status/systems', { auth });
      const body = expectError(answer, 401, 'Not authenticated');
      expect(answer.headers['www-authenticate']).toBe('Bearer');
      expect(body.user).toBeNull();
    }
  });

  it('rejects unknown and expired tokens with the messages of §2.3', async () => {
    expectError(
      await call('GET', '/status/systems', { auth: 'Bearer not-a-token' }),
      401,
      'Access token is invalid.',
    );
    const doomed = await fetchToken(double);
    double.faults.expireTokens();
    expectError(
      await call('GET', '/status/systems', { auth: `Bearer ${doomed}` }),
      401,
      'Access token expired',
    );
    token = await fetchToken(double);
    expect((await call('GET', '/status/systems')).status).toBe(200);
  });

  it('issues client-credentials tokens (post and basic) and refuses a wrong secret', async () => {
    const form = (secret: string) =>
      new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: double.clientId,
        client_secret: secret,
      });
    const good = await request(double.tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form(double.clientSecret).toString(),
    });
    expect(good.statusCode).toBe(200);
    const body = z
      .object({
        access_token: z.string().min(20),
        expires_in: z.number().int().positive(),
        token_type: z.literal('Bearer'),
      })
      .parse(await good.body.json());
    expect(body.expires_in).toBe(300);
    const basic = await request(double.tokenUri, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${double.clientId}:${double.clientSecret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials',
    });
    expect(basic.statusCode).toBe(200);
    await basic.body.dump();
    const bad = await request(double.tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form('wrong').toString(),
    });
    expect(bad.statusCode).toBe(401);
    await bad.body.dump();
  });

  it('answers 404 Not Found for unknown routes and 405 for a wrong method, in the error shape', async () => {
    expectError(await call('GET', '/compute/daint/nothing-here'), 404, 'Not Found');
    const { body, contentType } = multipart('x.txt', Buffer.from('x'));
    expectError(
      await call('PUT', `/filesystem/daint/ops/upload?path=${q(double.home)}`, { body, contentType }),
      405,
      'Method Not Allowed',
    );
  });

  it('lower-cases the path before routing, not the query string', async () => {
    const dir = posix.join(double.home, 'MixedCase');
    await mkdir(dir, { recursive: true });
    const answer = await call('GET', `/FileSystem/DAINT/ops/stat?path=${q(dir)}`);
    expect(answer.status).toBe(200);
    StatBody.parse(answer.json());
  });
});

describe('FirecREST double: status endpoints (§4)', () => {
  it('lists the system with fileSystems and a snake_case dataOperation', async () => {
    const answer = await call('GET', '/status/systems');
    expect(answer.status).toBe(200);
    const body = SystemsBody.parse(answer.json());
    const system = body.systems[0]!;
    expect(system.name).toBe('daint');
    expect(system.dataOperation.max_ops_file_size).toBe(64 * 1024);
    expect(system.fileSystems.some((fs) => double.home.startsWith(fs.path))).toBe(true);
  });
});

describe('FirecREST double: filesystem ops (§6)', () => {
  it('enforces the path rules with the exact messages', async () => {
    expectError(
      await call('GET', `/filesystem/daint/ops/stat?path=relative/file`),
      400,
      'The provided path (relative/file) is not an absolute path.',
    );
    expectError(
      await call('GET', `/filesystem/daint/ops/stat?path=${q('/etc/passwd')}`),
      400,
      'The provided path (/etc/passwd) does not match any of the defined filesystem paths for the requested system (daint).',
    );
    expectError(
      await call('GET', `/filesystem/nosuch/ops/stat?path=${q(double.home)}`),
      404,
      'System not found',
    );
    expectError(
      await call('POST', '/filesystem/daint/ops/mkdir', { json: { parent: true } }),
      400,
      'Unable to decode request and retreive the required path or source_path parameter.',
    );
  });

  it('mkdir answers 201 with the new directory, 400 File exists, 404 for a missing parent', async () => {
    const dir = posix.join(double.home, 'contract', 'a', 'b');
    const created = await call('POST', '/filesystem/daint/ops/mkdir', { json: { path: dir, parent: true } });
    expect(created.status).toBe(201);
    const output = z.strictObject({ output: FileEntry }).parse(created.json()).output;
    expect(output).toMatchObject({ name: dir, type: 'd' });
    expectError(
      await call('POST', '/filesystem/daint/ops/mkdir', { json: { path: dir } }),
      400,
      /File exists/,
    );
    expectError(
      await call('POST', '/filesystem/daint/ops/mkdir', {
        json: { path: posix.join(double.home, 'missing', 'child') },
      }),
      404,
      /^Remote process failed with exit status:1 and error message:.*No such file or directory/,
    );
  });

  it('uploads with the multipart filename (204), refuses above max_ops_file_size (413) and a missing part (400)', async () => {
    const dir = posix.join(double.home, 'contract');
    const exact = multipart('limit.bin', Buffer.alloc(64 * 1024, 97));
    expect((await call('POST', `/filesystem/daint/ops/upload?path=${q(dir)}`, exact)).status).toBe(204);
    const over = multipart('over.bin', Buffer.alloc(64 * 1024 + 1, 97));
    expectError(
      await call('POST', `/filesystem/daint/ops/upload?path=${q(dir)}`, over),
      413,
      'File to upload is too large.',
    );
    const wrongField = multipart('x.txt', Buffer.from('x'), 'other');
    const missing = expectError(
      await call('POST', `/filesystem/daint/ops/upload?path=${q(dir)}`, wrongField),
      400,
      /.+/,
    );
    expect(missing.errorType).toBe('validation');
    expect(missing.data?.fields[0]).toMatchObject({ location: 'body', name: 'file' });
  });

  it('ls lists File entries with string sizes; stat answers ints; rm 204 then 404', async () => {
    const dir = posix.join(double.home, 'contract', 'ls');
    await mkdir(dir, { recursive: true });
    await writeFile(posix.join(dir, 'out.txt'), 'twelve bytes');
    await writeFile(posix.join(dir, '.hidden'), 'h');
    const listed = await call('GET', `/filesystem/daint/ops/ls?path=${q(dir)}`);
    const entries = z.strictObject({ output: z.array(FileEntry) }).parse(listed.json()).output;
    expect(entries.map((e) => [e.name, e.size])).toEqual([['out.txt', '12']]);
    const hidden = z
      .strictObject({ output: z.array(FileEntry) })
      .parse((await call('GET', `/filesystem/daint/ops/ls?path=${q(dir)}&showHidden=true`)).json()).output;
    expect(hidden.map((e) => e.name)).toEqual(['.hidden', 'out.txt']);
    const file = posix.join(dir, 'out.txt');
    expect(
      StatBody.parse((await call('GET', `/filesystem/daint/ops/stat?path=${q(file)}`)).json()).output.size,
    ).toBe(12);
    expect((await call('DELETE', `/filesystem/daint/ops/rm?path=${q(file)}`)).status).toBe(204);
    expectError(
      await call('GET', `/filesystem/daint/ops/stat?path=${q(file)}`),
      404,
      /No such file or directory/,
    );
  });

  it('view pages by offset and size, with its validation and the output-buffer limit', async () => {
    const file = posix.join(double.home, 'contract', 'view.txt');
    await writeFile(file, '0123456789abcdefghij');
    const page = await call('GET', `/filesystem/daint/ops/view?path=${q(file)}&offset=5&size=4`);
    expect(z.strictObject({ output: z.string() }).parse(page.json()).output).toBe('5678');
    expectError(await call('GET', `/filesystem/daint/ops/view?path=${q(file)}&offset=-1`), 400, /offset/);
    expectError(await call('GET', `/filesystem/daint/ops/view?path=${q(file)}&size=0`), 400, /size/);
    expectError(
      await call('GET', `/filesystem/daint/ops/view?path=${q(file)}&size=${64 * 1024 + 1}`),
      400,
      `\`size\` value must be less than ${64 * 1024} bytes`,
    );
    const big = posix.join(double.home, 'contract', 'big.txt');
    await writeFile(big, Buffer.alloc(100 * 1024, 98));
    // The default size is the whole limit: two such blocks overflow the output buffer.
    expectError(
      await call('GET', `/filesystem/daint/ops/view?path=${q(big)}`),
      413,
      'Command output exceeded buffer limit.',
    );
  });

  it('head and tail answer FileContent with the positions of §6.2, including the tail quirk', async () => {
    const file = posix.join(double.home, 'contract', 'lines.txt');
    await writeFile(file, Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join(''));
    const head = FileContentBody.parse(
      (await call('GET', `/filesystem/daint/ops/head?path=${q(file)}&lines=3`)).json(),
    );
    expect(head.output).toEqual({
      content: '1\n2\n3\n',
      contentType: 'lines',
      startPosition: 0,
      endPosition: 3,
    });
    const tail = FileContentBody.parse(
      (await call('GET', `/filesystem/daint/ops/tail?path=${q(file)}&lines=2`)).json(),
    );
    expect(tail.output).toEqual({
      content: '19\n20\n',
      contentType: 'lines',
      startPosition: -2,
      endPosition: -1,
    });
    const fromByte = FileContentBody.parse(
      (await call('GET', `/filesystem/daint/ops/tail?path=${q(file)}&bytes=46&skipHeading=true`)).json(),
    );
    expect(fromByte.output).toEqual({
      content: '19\n20\n',
      contentType: 'bytes',
      startPosition: 46,
      endPosition: -1,
    });
    const plain = FileContentBody.parse(
      (await call('GET', `/filesystem/daint/ops/tail?path=${q(file)}`)).json(),
    );
    expect(plain.output.startPosition).toBe(10);
    expectError(
      await call('GET', `/filesystem/daint/ops/tail?path=${q(file)}&lines=1&bytes=1`),
      400,
      'Only one of `bytes` or `lines` can be specified.',
    );
  });

  it('download answers the raw bytes, 413 above three quarters of the buffer', async () => {
    const file = posix.join(double.home, 'contract', 'raw.bin');
    const bytes = Buffer.from([0, 255, 1, 254, 10]);
    await writeFile(file, bytes);
    const answer = await request(`${double.url}/filesystem/daint/ops/download?path=${q(file)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('application/octet-stream');
    expect(Buffer.from(await answer.body.arrayBuffer())).toEqual(bytes);
    const big = posix.join(double.home, 'contract', 'big.txt');
    expectError(await call('GET', `/filesystem/daint/ops/download?path=${q(big)}`), 413, /buffer limit/);
  });
});

describeOnCluster('FirecREST double: status and compute endpoints on the local cluster (§4-§5)', () => {
  it('userinfo has string ids and SLURM accounts with the default flagged', async () => {
    const body = UserInfoBody.parse((await call('GET', '/status/daint/userinfo')).json());
    expect(body.user.name).toBe(double.user);
    expect(body.accounts?.filter((a) => a.default)).toHaveLength(1);
  });

  it('partitions carry the state in `partition`; reservations use epoch seconds', async () => {
    const partitions = PartitionsBody.parse(
      (await call('GET', '/status/daint/partitions')).json(),
    ).partitions;
    expect(partitions.find((p) => p.name === 'normal')).toMatchObject({ partition: 'UP', totalNodes: 4 });
    const reservations = ReservationsBody.parse(
      (await call('GET', '/status/daint/reservations')).json(),
    ).reservations;
    for (const r of reservations) expect(r.endTime).toBeGreaterThan(r.startTime);
  });

  it('answers an unknown system with 404 on every per-system route, status ones included', async () => {
    expectError(await call('GET', '/status/nosuch/partitions'), 404, 'System not found');
    expectError(await call('GET', '/compute/nosuch/jobs'), 404, 'System not found');
    expectError(await call('GET', '/filesystem/nosuch/ops/stat?path=/tmp'), 404, 'System not found');
  });

  it('validates the submit body: a `job` wrapper and a working directory are required', async () => {
    const noWrapper = expectError(
      await call('POST', '/compute/daint/jobs', { json: { script: 'x' } }),
      400,
      /.+/,
    );
    expect(noWrapper.errorType).toBe('validation');
    expect(noWrapper.data?.fields[0]).toMatchObject({ location: 'body', name: 'job' });
    const noDir = expectError(
      await call('POST', '/compute/daint/jobs', { json: { job: { script: '#!/bin/bash\n' } } }),
      400,
      /.+/,
    );
    expect(noDir.data?.fields[0]).toMatchObject({ location: 'body', name: 'job' });
  });

  it('passes sbatch errors through as 500 with the Slurm command text', async () => {
    const answer = await call('POST', '/compute/daint/jobs', {
      json: { job: { workingDirectory: double.home, script: sleepScript(1), partition: 'nosuchpartition' } },
    });
    expectError(answer, 500, /^Unexpected Slurm command response\. exit_status:1 std_err:sbatch: error: /);
  });

  it('submits (201, string jobId), reports the job object, lists it, and cancels idempotently per the quirks', async () => {
    const submitted = await call('POST', '/compute/daint/jobs', {
      json: { job: { name: JOB_NAME, working_directory: double.home, script: sleepScript(60) } },
    });
    expect(submitted.status).toBe(201);
    const { jobId } = z.strictObject({ jobId: z.string().regex(/^\d+$/) }).parse(submitted.json());

    // Until a job starts, SLURM's accounting row is a placeholder (name `allocation`, no working
    // directory, PENDING); when squeue already shows the job started, the merge lets that row win
    // for a moment (§5: the sacct row wins unless squeue's is PENDING), as the real server does.
    const one = await waitFor(
      async () => {
        const job = JobsBody.parse((await call('GET', `/compute/daint/jobs/${jobId}`)).json()).jobs[0]!;
        return job.name === 'allocation' ? undefined : job;
      },
      { timeoutMs: 10_000, what: `job ${jobId} past its placeholder accounting row` },
    );
    expect(one).toMatchObject({ jobId, name: JOB_NAME, workingDirectory: double.home });
    expect(['PENDING', 'RUNNING', 'CONFIGURING']).toContain(one.status.state);
    expect(one.time.limit).toBe(300);

    const listed = JobsBody.parse(
      (await call('GET', '/compute/daint/jobs?allusers=false&account=&time_window=1h')).json(),
    );
    expect(listed.jobs.map((j) => j.jobId)).toContain(jobId);
    const byName = JobsBody.parse((await call('GET', `/compute/daint/jobs?name=${q(JOB_NAME)}`)).json());
    expect(byName.jobs.map((j) => j.jobId)).toEqual([jobId]);
    expectError(await call('GET', '/compute/daint/jobs?time_window=2h'), 400, /.+/);

    const cancelled = await call('DELETE', `/compute/daint/jobs/${jobId}`);
    expect(cancelled.status).toBe(204);
    expect(cancelled.text).toBe('');
    const ended = await waitFor(
      async () => {
        const job = JobsBody.parse((await call('GET', `/compute/daint/jobs/${jobId}`)).json()).jobs[0]!;
        return job.status.state.startsWith('CANCELLED by ') ? job : undefined;
      },
      { timeoutMs: 30_000, what: `job ${jobId} to read CANCELLED by <uid>` },
    );
    expect(ended.status.stateReason).toBe('None');
    expectError(await call('DELETE', `/compute/daint/jobs/${jobId}`), 500, /already completing or completed/);
  });

  it('answers 400 for a malformed job id, 404 Job not found for an unknown one, 500 Invalid job id on cancel', async () => {
    const malformed = expectError(await call('GET', '/compute/daint/jobs/12_3'), 400, /.+/);
    expect(malformed.data?.fields[0]).toMatchObject({ location: 'path' });
    expectError(await call('GET', '/compute/daint/jobs/987654321'), 404, 'Job not found.');
    expectError(await call('DELETE', '/compute/daint/jobs/987654321'), 500, /Invalid job id specified/);
  });
});
