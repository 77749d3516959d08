import { fork } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newLaunchId } from '../../src/domain/job-name.js';
import { JobStore, type LaunchRecord } from '../../src/jobs/store.js';

function record(id: string): LaunchRecord {
  return {
    launch_id: id,
    created_at: new Date().toISOString(),
    system: 'local',
    user: 'alice',
    served_model_name: 'alice/vendor/model',
    framework: 'sglang',
    working_dir: '/home/alice/.sml',
    spec: {},
    request: {},
    jobs: [{ index: 0, tag: `sml-mcp:${id}:0`, state: 'planned', scripts: {}, runs: 'now' }],
    warnings: [],
  };
}

describe('JobStore', () => {
  it('keeps its directories and files for the user alone (0700 / 0600), narrowing a root left 0755', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'store-modes-'));
    const root = join(parent, 'state');
    await mkdir(root, { mode: 0o755 });
    await chmod(root, 0o755);
    const store = new JobStore(root);
    const id = newLaunchId();
    await store.create(record(id));
    await store.claimIdempotencyKey('key-1', id);
    const modeOf = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);
    expect(await modeOf(root)).toBe('700');
    expect(await modeOf(join(root, 'launches'))).toBe('700');
    expect(await modeOf(join(root, 'idempotency'))).toBe('700');
    expect(await modeOf(join(root, 'launches', `${id}.json`))).toBe('600');
    const [key] = await readdir(join(root, 'idempotency'));
    expect(await modeOf(join(root, 'idempotency', key!))).toBe('600');
  });

  it('keeps every concurrent update to one launch (no lost writes)', async () => {
    const store = new JobStore(await mkdtemp(join(tmpdir(), 'store-')));
    const id = newLaunchId();
    await store.create(record(id));
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => store.update(id, (r) => r.warnings.push(`w${i}`))),
    );
    const stored = await store.get(id);
    expect(new Set(stored?.warnings)).toEqual(new Set(Array.from({ length: 40 }, (_, i) => `w${i}`)));
  });

  it('keeps concurrent updates from separate processes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'store-'));
    const store = new JobStore(root);
    const id = newLaunchId();
    await store.create(record(id));
    const script = join(root, 'writer.mjs');
    // Separate processes run the built module (npm test builds first).
    const storeModule = new URL('../../dist/src/jobs/store.js', import.meta.url).href;
    await writeFile(
      script,
      `const { JobStore } = await import(${JSON.stringify(storeModule)});
       const store = new JobStore(process.argv[2]);
       for (let i = 0; i < 10; i++) await store.update(process.argv[3], (r) => r.warnings.push(process.argv[4] + i));`,
    );
    const runWriter = (name: string) =>
      new Promise<number>((resolve) => {
        const child = fork(script, [root, id, name], { stdio: 'inherit' });
        child.on('exit', (code) => resolve(code ?? 1));
        child.on('error', () => resolve(1));
      });
    const codes = await Promise.all([runWriter('a'), runWriter('b'), runWriter('c')]);
    expect(codes).toEqual([0, 0, 0]);
    const stored = await store.get(id);
    expect(stored?.warnings.length).toBe(30);
  });

  it('leaves the previous version when a write is interrupted (temp file never renamed)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'store-'));
    const store = new JobStore(root);
    const id = newLaunchId();
    await store.create(record(id));
    // A crash mid-write leaves a half-written temp file beside the record.
    await writeFile(join(root, 'launches', `${id}.json.999.deadbeef.tmp`), '{"launch_id": "');
    expect((await store.get(id))?.launch_id).toBe(id);
    expect((await store.list()).map((r) => r.launch_id)).toEqual([id]);
  });

  it('breaks a lock left by a crashed writer', async () => {
    const root = await mkdtemp(join(tmpdir(), 'store-'));
    const store = new JobStore(root);
    const id = newLaunchId();
    await store.create(record(id));
    await writeFile(join(root, 'launches', `${id}.json.lock`), `12345 ${Date.now() - 60_000}`);
    await store.update(id, (r) => r.warnings.push('after-crash'));
    expect((await store.get(id))?.warnings).toEqual(['after-crash']);
    expect((await readdir(join(root, 'launches'))).filter((n) => n.endsWith('.lock'))).toEqual([]);
  });

  it('gives an idempotency key to exactly one of many concurrent claims', async () => {
    const store = new JobStore(await mkdtemp(join(tmpdir(), 'store-')));
    const ids = Array.from({ length: 20 }, () => newLaunchId());
    const answers = await Promise.all(ids.map((id) => store.claimIdempotencyKey('retry-me', id)));
    const winners = ids.filter((_, i) => answers[i] === undefined);
    expect(winners).toHaveLength(1);
    for (const answer of answers) if (answer !== undefined) expect(answer).toBe(winners[0]);
  });

  it('frees an idempotency key only for the launch that owns it', async () => {
    const store = new JobStore(await mkdtemp(join(tmpdir(), 'store-')));
    const [owner, other, next] = [newLaunchId(), newLaunchId(), newLaunchId()];
    expect(await store.claimIdempotencyKey('free-me', owner)).toBeUndefined();
    await store.releaseIdempotencyKey('free-me', other);
    expect(await store.claimIdempotencyKey('free-me', next)).toBe(owner);
    await store.releaseIdempotencyKey('free-me', owner);
    expect(await store.claimIdempotencyKey('free-me', next)).toBeUndefined();
  });

  it('finds a launch by job id', async () => {
    const store = new JobStore(await mkdtemp(join(tmpdir(), 'store-')));
    const id = newLaunchId();
    await store.create(record(id));
    await store.update(id, (r) => {
      r.jobs[0]!.job_id = '4242';
      r.jobs[0]!.state = 'submitted';
    });
    expect((await store.findByJobId('4242'))?.launch.launch_id).toBe(id);
    expect(await store.findByJobId('1')).toBeUndefined();
  });
});
