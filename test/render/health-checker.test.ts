import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetPath } from '../../src/assets.js';

/** The in-job replica health checker, run with python3 against real HTTP servers and a stub scancel. */

const CHECKER = assetPath('replica_health_checker.py');
let dir: string;
const servers: Server[] = [];

/** A server whose /health answers the given statuses in turn (the last one repeats). */
async function healthServer(statuses: number[]): Promise<number> {
  let calls = 0;
  const server = createServer((request, response) => {
    const status = statuses[Math.min(calls++, statuses.length - 1)]!;
    response.statusCode = request.url === '/health' ? status : 404;
    response.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sml-checker-'));
  writeFileSync(
    join(dir, 'scancel'),
    '#!/bin/bash\necho "$@" >>"$SCANCEL_LOG"\nif [ -n "$SCANCEL_FAIL" ]; then echo "$SCANCEL_FAIL" >&2; exit 1; fi\n',
  );
  chmodSync(join(dir, 'scancel'), 0o755);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

async function runChecker(name: string, env: Record<string, string>) {
  const report = join(dir, `${name}.json`);
  const log = join(dir, `${name}.scancel`);
  const result = await execa('python3', [CHECKER], {
    reject: false,
    timeout: 60_000,
    env: {
      PATH: `${dir}:${process.env.PATH}`,
      SML_HEALTH_REPORT_PATH: report,
      SML_HEALTH_MAX_CYCLES: '1',
      SML_HEALTH_INTERVAL: '1',
      SML_HEALTH_STARTUP_INTERVAL: '1',
      SML_HEALTH_TIMEOUT: '2',
      SML_HEALTH_OPENTELA_PORT: '0',
      SCANCEL_LOG: log,
      // Probes must bypass any proxy configured on the batch node.
      http_proxy: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      ...env,
    },
  });
  expect(result.exitCode, result.stderr).toBe(0);
  return {
    report: JSON.parse(readFileSync(report, 'utf8')),
    hasTmp: existsSync(`${report}.tmp`),
    scancels: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [],
    stdout: result.stdout,
  };
}

describe('replica health checker', () => {
  it('parses as Python 3.6 (it runs on whatever python3 the batch node has)', async () => {
    const check = `import ast, sys; ast.parse(open(sys.argv[1]).read(), feature_version=(3, 6))`;
    const result = await execa('python3', ['-c', check, CHECKER], { reject: false });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('probes each replica on its own port and writes the report atomically', async () => {
    const healthy = await healthServer([200]);
    const starting = await healthServer([503]);
    const silent = await freePort();
    const { report, hasTmp } = await runChecker('ports', {
      SML_HEALTH_REPLICA_IPS: '127.0.0.1,127.0.0.1,127.0.0.1',
      SML_HEALTH_REPLICA_HOSTS: 'n1,n1,n2',
      SML_HEALTH_REPLICA_PORTS: `${healthy},${starting},${silent}`,
      SML_HEALTH_NODES_PER_REPLICA: '2',
    });
    expect(hasTmp).toBe(false);
    expect(typeof report.checked_at).toBe('number');
    expect(report.all_healthy).toBe(false);
    expect(report.replicas).toEqual([
      expect.objectContaining({
        replica: 0,
        node_rank: 0,
        node_host: 'n1',
        port: healthy,
        health: 'HEALTHY',
        peer_id: null,
      }),
      expect.objectContaining({
        replica: 1,
        node_rank: 2,
        port: starting,
        health: 'NOT_DEPLOYED',
        last_seen: null,
      }),
      expect.objectContaining({
        replica: 2,
        node_rank: 4,
        node_host: 'n2',
        port: silent,
        health: 'NOT_DEPLOYED',
      }),
    ]);
    expect(report.replicas[0].last_seen).toBeGreaterThan(0);
    // master.sh restarts only a replica that once served: the checker marks it next to the report.
    expect(existsSync(join(dir, 'replica_0.served'))).toBe(true);
    expect(existsSync(join(dir, 'replica_1.served'))).toBe(false);
  });

  it('reports a replica that stops answering, keeping when it was last seen', async () => {
    const flaky = await healthServer([200, 500]);
    const { report } = await runChecker('flaky', {
      SML_HEALTH_REPLICA_IPS: '127.0.0.1',
      SML_HEALTH_REPLICA_PORTS: String(flaky),
      SML_HEALTH_MAX_CYCLES: '2',
    });
    expect(report.replicas[0]).toMatchObject({ health: 'NOT_RESPONDING', node_host: null });
    expect(report.replicas[0].last_seen).toBeGreaterThan(0);
  });

  it("looks a restarted replica's OpenTela peer id up again", async () => {
    // srun runs the peer-id look-up on the node: this one answers peer-1, peer-2, … in turn.
    writeFileSync(
      join(dir, 'srun'),
      '#!/bin/bash\nn=$(( $(cat "$SRUN_COUNT" 2>/dev/null || echo 0) + 1 ))\necho "$n" >"$SRUN_COUNT"\necho "peer-$n"\n',
    );
    chmodSync(join(dir, 'srun'), 0o755);
    const restarted = await healthServer([200, 503, 200]);
    const { report } = await runChecker('peer', {
      SML_HEALTH_REPLICA_IPS: '127.0.0.1',
      SML_HEALTH_REPLICA_HOSTS: 'n1',
      SML_HEALTH_REPLICA_PORTS: String(restarted),
      SML_HEALTH_OPENTELA_PORT: '8092',
      SML_HEALTH_MAX_CYCLES: '3',
      SRUN_COUNT: join(dir, 'peer.srun-count'),
    });
    expect(report.replicas[0]).toMatchObject({ health: 'HEALTHY', peer_id: 'peer-2' });
  });

  it('counts a router that does not answer yet as not healthy, and hands over only once it does', async () => {
    const replica = await healthServer([200]);
    const router = await healthServer([503, 200]);
    const first = await runChecker('router-down', {
      SML_HEALTH_REPLICA_IPS: '127.0.0.1',
      SML_HEALTH_REPLICA_PORTS: String(replica),
      SML_HEALTH_ROUTER_URL: `http://127.0.0.1:${router}`,
      SML_HEALTH_PREVIOUS_JOB_ID: '41',
    });
    expect(first.report.router).toMatchObject({ health: 'NOT_DEPLOYED', last_seen: null });
    expect(first.report.all_healthy).toBe(false);
    expect(first.scancels).toEqual([]);
    const second = await runChecker('router-up', {
      SML_HEALTH_REPLICA_IPS: '127.0.0.1',
      SML_HEALTH_REPLICA_PORTS: String(replica),
      SML_HEALTH_ROUTER_URL: `http://127.0.0.1:${router}`,
      SML_HEALTH_PREVIOUS_JOB_ID: '41',
    });
    expect(second.report.router).toMatchObject({ health: 'HEALTHY' });
    expect(second.report.all_healthy).toBe(true);
    expect(second.scancels).toEqual(['41']);
  });

  it('cancels the predecessor once every replica is healthy, once', async () => {
    const a = await healthServer([200]);
    const b = await healthServer([200]);
    const { report, scancels, stdout } = await runChecker('handover', {
      SML_HEALTH_REPLICA_IPS: '127.0.0.1,127.0.0.1',
      SML_HEALTH_REPLICA_PORTS: `${a},${b}`,
      SML_HEALTH_PREVIOUS_JOB_ID: '4241',
      SML_HEALTH_MAX_CYCLES: '2',
    });
    expect(scancels).toEqual(['4241']);
    expect(report).toMatchObject({
      all_healthy: true,
      previous_job_id: '4241',
      previous_job_cancelled: true,
    });
    expect(stdout).toContain('cancelling predecessor job 4241');
  });

  it('does not hand over while a replica is down, and accepts a predecessor that already ended', async () => {
    const up = await healthServer([200]);
    const down = await healthServer([503]);
    const waiting = await runChecker('no-handover', {
      SML_HEALTH_REPLICA_IPS: '127.0.0.1,127.0.0.1',
      SML_HEALTH_REPLICA_PORTS: `${up},${down}`,
      SML_HEALTH_PREVIOUS_JOB_ID: '4241',
    });
    expect(waiting.scancels).toEqual([]);
    expect(waiting.report.previous_job_cancelled).toBe(false);
    const gone = await runChecker('gone', {
      SML_HEALTH_REPLICA_IPS: '127.0.0.1',
      SML_HEALTH_REPLICA_PORTS: String(up),
      SML_HEALTH_PREVIOUS_JOB_ID: '4241',
      SML_HEALTH_MAX_CYCLES: '3',
      SCANCEL_FAIL: 'scancel: error: Kill job error on job id 4241: Invalid job id specified',
    });
    expect(gone.scancels).toEqual(['4241']);
    expect(gone.report.previous_job_cancelled).toBe(true);
  });
});
