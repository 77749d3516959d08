/**
 * The SLURM backend's behaviour on the real local cluster, written once and run through both
 * connections: the CLI on this machine (local.test.ts) and over SSH to loopback sshd (ssh.test.ts).
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SmlError } from '../../src/errors.js';
import { ENDED_STATES, type JobInfo, type SlurmState } from '../../src/scheduler/scheduler.js';
import {
  type ClusterRunner,
  createSlurmScheduler,
  type SlurmCliScheduler,
  type TransferEvent,
} from '../../src/scheduler/slurm/index.js';
import { decodeUtf8Prefix } from '../../src/text.js';
import { clusterEnv, describeOnCluster, requireCluster, waitFor } from '../helpers/cluster.js';
import { rejection } from '../helpers/errors.js';

export interface BackendUnderTest {
  /** A fresh scheduler (fresh caches) that reports every round trip to `onTransfer`. */
  create(options?: {
    onTransfer?: (event: TransferEvent) => void;
    wrap?: (runner: ClusterRunner) => ClusterRunner;
  }): SlurmCliScheduler;
  close(): Promise<void>;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
const NODE = /^n[1-4]$/;
const MIB = 1024 * 1024;
/** Tests that wait for jobs: the cluster is shared with the other cluster tests, so jobs may queue a while. */
const JOB_TEST_TIMEOUT_MS = 240_000;

function batchScript(lines: {
  name: string;
  comment: string;
  output: string;
  directives?: string[];
  body: string;
}) {
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${lines.name}`,
    `#SBATCH --comment=${lines.comment}`,
    `#SBATCH --output=${lines.output}`,
    '#SBATCH --time=00:05:00',
    ...(lines.directives ?? []).map((directive) => `#SBATCH ${directive}`),
    lines.body,
    '',
  ].join('\n');
}

/** The account SLURM charges when none is given: the one test/cluster/up.sh makes the default. */
function clusterAccount(): string {
  return clusterEnv().SML_CLUSTER_ACCOUNT ?? 'sml-test';
}

function countByProgram(events: readonly TransferEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) counts[event.program] = (counts[event.program] ?? 0) + 1;
  return counts;
}

export function defineBackendTests(label: string, setUp: () => Promise<BackendUnderTest>): void {
  describeOnCluster(`SLURM backend (${label}) on the local cluster`, () => {
    let backend: BackendUnderTest;
    let scheduler: SlurmCliScheduler;
    /** Bulk submissions go through the local CLI: the SSH suite measures status, not 50 sbatch round trips. */
    let bulk: SlurmCliScheduler;
    let scratch: string;
    const tag = `sml-test-${label}-${process.pid}-${Date.now().toString(36)}`;
    const cleanUp: string[] = [];

    async function submit(name: string, body: string, directives: string[] = [], via = scheduler) {
      const scriptPath = join(scratch, 'scripts', `${name} 'x'.sh`);
      const { jobId } = await via.submit({
        script: batchScript({
          name,
          comment: `${tag}:${name}`,
          output: `${scratch}/logs/%j.out`,
          directives,
          body,
        }),
        scriptPath,
        workingDir: scratch,
        tag: `${tag}:${name}`,
      });
      cleanUp.push(jobId);
      return jobId;
    }

    async function stateOf(jobId: string): Promise<JobInfo | undefined> {
      return (await scheduler.statuses([jobId])).get(jobId);
    }

    async function waitForState(
      jobId: string,
      states: readonly SlurmState[],
      timeoutMs = 180_000,
    ): Promise<JobInfo> {
      return waitFor(
        async () => {
          const job = await stateOf(jobId);
          // Thrown, so a timeout names the state the job was stuck in.
          if (!job || !states.includes(job.state))
            throw new Error(`job ${jobId} is ${job?.rawState ?? 'unknown'}`);
          return job;
        },
        { timeoutMs, what: `job ${jobId} to reach ${states.join('/')}` },
      );
    }

    beforeAll(async () => {
      await requireCluster();
      backend = await setUp();
      scheduler = backend.create();
      bulk = createSlurmScheduler({ kind: 'slurm' });
      scratch = await mkdtemp(join(tmpdir(), `sml-slurm-${label}-`));
      await scheduler.mkdir(join(scratch, 'logs'));
    });

    afterAll(async () => {
      await Promise.allSettled(cleanUp.map((jobId) => bulk.cancel(jobId)));
      await backend?.close();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('tells who the user is, the default account and the working dir', async () => {
      const identity = await scheduler.whoami();
      expect(identity.user).toBe(userInfo().username);
      expect(identity.defaultAccount).toBe(clusterAccount());
      expect(identity.home).toBe(userInfo().homedir);
      expect(await scheduler.workingDir()).toBe(join(userInfo().homedir, '.sml'));
    });

    it("lists the cluster's partitions and reservations", async () => {
      const partitions = await scheduler.partitions();
      const normal = partitions.find((partition) => partition.name === 'normal');
      expect(normal).toMatchObject({ isDefault: true, state: 'UP', totalNodes: 4, nodes: 'n[1-4]' });
      const short = partitions.filter((partition) => partition.name !== 'normal');
      expect(short.length).toBeGreaterThan(0);
      expect(
        short.every(
          (partition) => !partition.isDefault && /^\d{2}:\d{2}:\d{2}$/.test(partition.maxTime ?? ''),
        ),
      ).toBe(true);
      const reservations = await scheduler.reservations();
      expect(reservations.length).toBeGreaterThan(0);
      for (const reservation of reservations) {
        expect(reservation.name).not.toBe('');
        expect(reservation.startTime).toMatch(ISO);
        expect(reservation.nodes).toMatch(/^n/);
      }
    });

    it(
      'submits a script and follows it through PENDING, RUNNING and COMPLETED',
      async () => {
        // A dependency on a running job holds the job in PENDING for as long as the test needs.
        const blocker = await submit('blocker', 'sleep 300');
        const jobId = await submit('lifecycle', 'echo "started on $(hostname)"; sleep 3; echo done', [
          '--nodes=2',
          `--dependency=afterany:${blocker}`,
        ]);
        const scriptPath = join(scratch, 'scripts', "lifecycle 'x'.sh");
        expect(await scheduler.fileSize(scriptPath)).toBeGreaterThan(0);

        const pending = await stateOf(jobId);
        expect(pending).toMatchObject({
          jobId,
          state: 'PENDING',
          comment: `${tag}:lifecycle`,
          name: 'lifecycle',
        });
        expect(pending?.reason).toBe('Dependency');
        expect(pending?.submitTime).toMatch(ISO);
        await scheduler.cancel(blocker);

        const running = await waitForState(jobId, ['RUNNING', 'COMPLETING', 'COMPLETED']);
        expect(running.nodes).toHaveLength(2);
        expect(running.nodes!.every((node) => NODE.test(node))).toBe(true);
        expect(running.startTime).toMatch(ISO);

        const done = await waitForState(jobId, ['COMPLETED']);
        expect(done.exitCode).toBe('0:0');
        expect(done.endTime).toMatch(ISO);
        expect(done.endTime! >= done.startTime!).toBe(true);
        expect(done.account).toBe(clusterAccount());

        const log = await scheduler.readFile(join(scratch, 'logs', `${jobId}.out`), 0, 4096);
        expect(log.data.toString()).toMatch(/^started on n[1-4]\ndone\n$/);
        expect(log.size).toBe(log.data.length);
      },
      JOB_TEST_TIMEOUT_MS,
    );

    it('finds its jobs again from SLURM by the tag in their comment', async () => {
      const jobId = await submit('tagged', 'sleep 1');
      const found = await scheduler.findTaggedJobs(`${tag}:tag`);
      expect(found.map((job) => job.jobId)).toEqual([jobId]);
      expect(found[0]!.comment).toBe(`${tag}:tagged`);
      expect(await scheduler.findTaggedJobs(`${tag}:no-such-tag`)).toEqual([]);
    });

    it(
      'cancels a running job, and a second cancel succeeds with a note',
      async () => {
        const jobId = await submit('cancel-me', 'sleep 300');
        await waitForState(jobId, ['RUNNING']);
        expect(await scheduler.cancel(jobId)).toEqual({ jobId, alreadyEnded: false });
        const cancelled = await waitForState(jobId, ['CANCELLED'], 30_000);
        expect(cancelled.endTime).toMatch(ISO);
        const again = await scheduler.cancel(jobId);
        expect(again).toMatchObject({ jobId, alreadyEnded: true });
        expect(again.note).toContain(jobId);
      },
      JOB_TEST_TIMEOUT_MS,
    );

    it(
      'hands secret variables (HF_TOKEN) to the job through sbatch, never through its script',
      async () => {
        const token = `hf_${label.replace(/\W/g, '')}_${Date.now()}_secret`;
        const scriptPath = join(scratch, 'scripts', 'secret.sh');
        const { jobId } = await scheduler.submit({
          script: batchScript({
            name: 'secret',
            comment: `${tag}:secret`,
            output: `${scratch}/logs/%j.out`,
            directives: [],
            // The job proves it has the token without printing it.
            body: 'printf "%s" "$HF_TOKEN" | sha256sum | cut -c1-16',
          }),
          scriptPath,
          workingDir: scratch,
          tag: `${tag}:secret`,
          secretEnv: { HF_TOKEN: token },
        });
        cleanUp.push(jobId);
        await waitForState(jobId, ['COMPLETED']);
        const out = await scheduler.readFile(join(scratch, 'logs', `${jobId}.out`), 0, 4096);
        expect(out.data.toString().trim()).toBe(
          createHash('sha256').update(token).digest('hex').slice(0, 16),
        );
        const script = await scheduler.readFile(scriptPath, 0, 1 << 20);
        expect(script.data.toString()).not.toContain(token);
      },
      JOB_TEST_TIMEOUT_MS,
    );

    it('refuses to cancel a job SLURM never heard of, and leaves it out of statuses', async () => {
      expect((await rejection(scheduler.cancel('99999999'))).code).toBe('NOT_FOUND');
      expect((await scheduler.statuses(['99999999'])).size).toBe(0);
      expect((await rejection(scheduler.cancel('12; rm -rf /'))).code).toBe('INVALID_ARGUMENT');
    });

    it('reports sbatch refusing a script as SUBMIT_FAILED with its reason', async () => {
      const error = await rejection(submit('bad-partition', 'true', ['--partition=no-such-partition']));
      expect(error.code).toBe('SUBMIT_FAILED');
      expect(error.message).toMatch(/invalid partition/i);
    });

    it(
      'finds the job by its tag when the answer of sbatch is lost, and says so when it is not there',
      async () => {
        const timeout = () => new SmlError('TIMEOUT', 'sbatch did not finish within 120 s.');
        // The connection drops after sbatch ran (the job exists), or before (it does not).
        const dropAfter = (runner: ClusterRunner): ClusterRunner =>
          Object.assign(Object.create(runner) as ClusterRunner, {
            run: async (argv: readonly string[], options?: Parameters<ClusterRunner['run']>[1]) => {
              const result = await runner.run(argv, options);
              if (argv[0] === 'sbatch') throw timeout();
              return result;
            },
          });
        const dropBefore = (runner: ClusterRunner): ClusterRunner =>
          Object.assign(Object.create(runner) as ClusterRunner, {
            run: async (argv: readonly string[], options?: Parameters<ClusterRunner['run']>[1]) => {
              if (argv[0] === 'sbatch') throw timeout();
              return runner.run(argv, options);
            },
          });
        const jobId = await submit('lost-answer', 'sleep 1', [], backend.create({ wrap: dropAfter }));
        expect((await stateOf(jobId))?.comment).toBe(`${tag}:lost-answer`);
        const error = await rejection(
          submit('never-sent', 'sleep 1', [], backend.create({ wrap: dropBefore })),
        );
        expect(error.code).toBe('SUBMIT_FAILED');
        expect(error.message).toContain('may or may not have been submitted');
        expect(error.isAmbiguous).toBe(true);
        expect(await scheduler.findTaggedJobs(`${tag}:never-sent`)).toEqual([]);
      },
      JOB_TEST_TIMEOUT_MS,
    );

    it('costs one squeue and at most one sacct/scontrol for the status of 50 jobs', async () => {
      const ids: string[] = [];
      const expected = new Map<string, 'completed' | 'failed' | 'alive'>();
      for (let index = 0; index < 50; index++) {
        const kind = index % 10 === 3 ? 'failed' : index % 10 === 7 ? 'alive' : 'completed';
        const body = kind === 'failed' ? 'exit 3' : kind === 'alive' ? 'sleep 120' : 'true';
        const jobId = await submit(`batch-${index}`, body, [], bulk);
        ids.push(jobId);
        expected.set(jobId, kind);
      }
      const finishing = ids.filter((id) => expected.get(id) !== 'alive');
      await waitFor(
        async () => {
          const now = await scheduler.statuses(finishing);
          return finishing.every((id) => {
            const job = now.get(id);
            return job !== undefined && ENDED_STATES.has(job.state);
          });
        },
        { timeoutMs: 180_000, what: '45 short jobs to end' },
      );

      const events: TransferEvent[] = [];
      const counted = backend.create({ onTransfer: (event) => events.push(event) });
      const statuses = await counted.statuses(ids);
      const counts = countByProgram(events);
      expect(counts.squeue).toBe(1);
      expect((counts.sacct ?? 0) + (counts.scontrol ?? 0)).toBeLessThanOrEqual(1);
      expect(events).toHaveLength((counts.squeue ?? 0) + (counts.sacct ?? 0) + (counts.scontrol ?? 0));

      expect(statuses.size).toBe(50);
      for (const [jobId, kind] of expected) {
        const job = statuses.get(jobId)!;
        if (kind === 'completed') expect(job).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
        if (kind === 'failed') expect(job).toMatchObject({ state: 'FAILED', exitCode: '3:0' });
        if (kind === 'alive') expect(['PENDING', 'RUNNING']).toContain(job.state);
        expect(job.comment).toMatch(new RegExp(`^${tag}:batch-`));
      }
      await Promise.all(ids.filter((id) => expected.get(id) === 'alive').map((id) => bulk.cancel(id)));
    }, 300_000);

    it(
      'falls back to scontrol when accounting is disabled, still one extra call per sweep',
      async () => {
        const jobId = await submit('no-accounting', 'exit 2');
        await waitForState(jobId, ['FAILED']);
        const events: TransferEvent[] = [];
        // The one answer replaced is sacct's, by the exact words SLURM prints without slurmdbd.
        const withoutAccounting = (runner: ClusterRunner): ClusterRunner =>
          Object.assign(Object.create(runner) as ClusterRunner, {
            run: async (argv: readonly string[], options?: Parameters<ClusterRunner['run']>[1]) =>
              argv[0] === 'sacct'
                ? { exitCode: 1, stdout: Buffer.alloc(0), stderr: 'Slurm accounting storage is disabled\n' }
                : runner.run(argv, options),
          });
        const counted = backend.create({
          wrap: withoutAccounting,
          onTransfer: (event) => events.push(event),
        });
        expect((await counted.statuses([jobId])).get(jobId)).toMatchObject({
          state: 'FAILED',
          exitCode: '2:0',
        });
        events.length = 0;
        const second = await counted.statuses([jobId, '99999999']);
        expect(second.get(jobId)).toMatchObject({ state: 'FAILED', exitCode: '2:0' });
        expect(second.has('99999999')).toBe(false);
        expect(countByProgram(events)).toEqual({ squeue: 1, scontrol: 1 });
      },
      JOB_TEST_TIMEOUT_MS,
    );

    it('follows a 20 MB log in 100 reads, transferring at most 1.1 × its size, UTF-8 intact', async () => {
      const path = join(scratch, `growing log with 'quotes' "and" $(spaces).txt`);
      const line = 'Grüße aus Zürich — 日本語のログ — 🚀 line\n';
      const text = line.repeat(Math.ceil((20 * MIB) / Buffer.byteLength(line)));
      const bytes = Buffer.from(text);
      const steps = 100;
      const step = Math.ceil(bytes.length / steps);
      const events: TransferEvent[] = [];
      const reader = backend.create({ onTransfer: (event) => events.push(event) });
      let cursor = 0;
      let decoded = '';
      let splitSequences = 0;
      for (let index = 0; index < steps; index++) {
        // The job appends; byte-sized steps cut through multi-byte characters.
        await appendFile(path, bytes.subarray(index * step, (index + 1) * step));
        const chunk = await reader.readFile(path, cursor, 2 * step);
        const isEndOfFile = index === steps - 1 && cursor + chunk.data.length >= chunk.size;
        const { text: piece, consumed } = decodeUtf8Prefix(chunk.data, isEndOfFile);
        if (consumed < chunk.data.length) splitSequences++;
        decoded += piece;
        cursor += consumed;
      }
      expect(cursor).toBe(bytes.length);
      expect(decoded === text).toBe(true);
      expect(decoded.includes('\uFFFD')).toBe(false);
      expect(splitSequences).toBeGreaterThan(0);
      const reads = events.filter((event) => event.operation === 'read');
      expect(reads).toHaveLength(steps);
      const received = reads.reduce((total, event) => total + event.bytesReceived, 0);
      expect(received).toBeLessThanOrEqual(1.1 * bytes.length);
      expect(bytes.length).toBeGreaterThanOrEqual(20 * MIB);
      // 100 round trips: over SSH each one starts a login shell on the far side.
    }, 600_000);

    it('writes, sizes and reads files whose names hold spaces, quotes and $()', async () => {
      const directory = join(scratch, `dir with 'single' "double" $(touch pwned) \`id\``);
      const path = join(directory, 'nested', `file; rm -rf "x" 'y'.txt`);
      await scheduler.mkdir(directory);
      expect((await stat(directory)).isDirectory()).toBe(true);
      await scheduler.writeFile(path, 'first version\n', { mode: 0o640 });
      await scheduler.writeFile(path, 'héllo wörld\n', { mode: 0o640 });
      expect((await stat(path)).mode & 0o777).toBe(0o640);
      expect(await readdir(join(directory, 'nested'))).toEqual([`file; rm -rf "x" 'y'.txt`]);
      expect(await scheduler.fileSize(path)).toBe(Buffer.byteLength('héllo wörld\n'));
      const tail = await scheduler.readFile(path, 7, 100);
      expect(tail.data.toString()).toBe('wörld\n');
      expect((await scheduler.readFile(path, 100, 10)).data.length).toBe(0);
      expect(await readdir(scratch)).not.toContain('pwned');
      expect(await scheduler.fileSize(join(directory, 'missing'))).toBeUndefined();
      expect((await rejection(scheduler.readFile(join(directory, 'missing'), 0, 10))).code).toBe('NOT_FOUND');
      expect((await rejection(scheduler.readFile('relative/path', 0, 10))).code).toBe('INVALID_ARGUMENT');
    });

    it('honours an abort signal', async () => {
      const controller = new AbortController();
      controller.abort();
      expect((await rejection(scheduler.partitions({ signal: controller.signal }))).code).toBe('CANCELLED');
    });
  });
}
