/**
 * The FirecREST Scheduler on the real local cluster through the double: identity and working
 * directory, partitions and reservations, staged files, submit with the tag, batched status,
 * idempotent cancel.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FirecrestScheduler } from '../../src/scheduler/firecrest/index.js';
import type { FirecrestDouble, FirecrestDoubleOptions } from '../doubles/firecrest/index.js';
import { describeOnCluster, runOnCluster, waitFor } from '../helpers/cluster.js';
import { backendFor, sleepScript, startDouble, waitUntilListed } from './harness.js';

/** Tags unique to this run: earlier runs' jobs stay listed for a while. */
const RUN = Date.now().toString(36).slice(-6);

describeOnCluster('FirecREST scheduler on the local cluster', () => {
  let double: FirecrestDouble;
  let backend: FirecrestScheduler;
  let workingDir: string;
  const submitted: string[] = [];

  beforeAll(async () => {
    double = await startDouble();
    backend = backendFor(double);
    workingDir = await backend.workingDir();
  });

  afterAll(async () => {
    if (submitted.length > 0) await runOnCluster('scancel', submitted);
    await backend?.close();
    await double?.stop();
  });

  async function submit(script: string, tag: string): Promise<string> {
    const { jobId } = await backend.submit({
      script,
      scriptPath: posix.join(workingDir, `${tag.replaceAll(':', '_')}.sh`),
      workingDir,
      tag,
    });
    submitted.push(jobId);
    return jobId;
  }

  it('knows who I am and where my working directory is, from userinfo and the users filesystem', async () => {
    const identity = await backend.whoami();
    expect(identity).toEqual({
      user: double.user,
      defaultAccount: 'sml-test',
      accountSource: 'FirecREST userinfo default account',
      home: double.home,
    });
    expect(workingDir).toBe(posix.join(double.home, '.sml'));
  });

  it('lists partitions and reservations', async () => {
    const partitions = await backend.partitions();
    expect(partitions.map((p) => p.name).sort()).toEqual(['debug', 'normal']);
    expect(partitions.find((p) => p.name === 'normal')).toMatchObject({ state: 'UP', totalNodes: 4 });
    const reservations = await backend.reservations();
    expect(reservations.find((r) => r.name === 'sml-maint')).toMatchObject({
      nodes: 'n4',
      state: 'inactive',
    });
    expect(reservations[0]!.startTime).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('stages files with mkdir -p and upload, and sets their mode', async () => {
    const path = posix.join(workingDir, 'staged', 'deep', 'env_sglang.toml');
    await backend.mkdir(posix.dirname(path));
    await backend.writeFile(path, 'image = "/opt/x.sqsh"\n', { mode: 0o640 });
    expect(await readFile(path, 'utf8')).toBe('image = "/opt/x.sqsh"\n');
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await backend.fileSize(path)).toBe(22);
    await backend.writeFile(path, 'overwritten');
    expect(await readFile(path, 'utf8')).toBe('overwritten');
  });

  it('submits in the working directory with the tag, and reports it through one list call per sweep', async () => {
    const tag = `sml-mcp:fcsched1${RUN}:0`;
    const script = sleepScript(1, 'echo "home=$HOME pwd=$(pwd)"\n');
    const jobId = await submit(script, tag);
    const other = await submit(sleepScript(1), `sml-mcp:fcsched1${RUN}:1`);
    const staged = await readFile(posix.join(workingDir, `${tag.replaceAll(':', '_')}.sh`), 'utf8');
    expect(staged.split('\n')[1]).toBe(`#SBATCH --comment=${tag}`);

    await waitUntilListed(backend, [jobId, other]);
    double.resetCounters();
    const first = await backend.statuses([jobId, other]);
    expect(first.get(jobId)).toMatchObject({ jobId, name: 'sml_fc_test', comment: tag, user: double.user });
    expect(double.requests.filter((r) => r.method === 'GET' && r.path.includes('/compute/'))).toHaveLength(1);
    expect(double.requests[0]!.path).toMatch(/\/compute\/local\/jobs$/);

    const ended = await waitFor(
      async () => {
        const info = (await backend.statuses([jobId, other])).get(jobId);
        return info?.state === 'COMPLETED' ? info : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 1000, what: `job ${jobId} to complete` },
    );
    expect(ended).toMatchObject({
      comment: tag,
      account: 'sml-test',
      partition: 'normal',
      timeLimit: '00:05:00',
      exitCode: '0:0',
    });
    expect(ended.nodes?.[0]).toMatch(/^n[1-4]$/);
    expect(Date.parse(ended.endTime!)).toBeGreaterThanOrEqual(Date.parse(ended.startTime!));

    const out = posix.join(workingDir, `slurm-${jobId}.out`);
    const chunk = await backend.readFile(out, 0, 4096);
    expect(chunk.data.toString()).toContain(`home=${double.home} pwd=${workingDir}`);
    // SLURM itself carries the tag as the job's comment, as with the SLURM CLI backend.
    const comment = await runOnCluster('squeue', ['-h', '--states=all', '-j', jobId, '-o', '%k']);
    expect(comment.stdout.trim()).toBe(tag);

    const tagged = await backend.findTaggedJobs(`sml-mcp:fcsched1${RUN}:`);
    expect(tagged.map((j) => j.jobId).sort()).toEqual([jobId, other].sort());
  }, 300_000);

  it("hands secret variables (HF_TOKEN) to the job in FirecREST's env field, never in the stored script", async () => {
    const token = `hf_firecrest_${RUN}_secret`;
    const tag = `sml-mcp:fcsecret${RUN}:0`;
    const scriptPath = posix.join(workingDir, 'secret.sh');
    const { jobId } = await backend.submit({
      script: sleepScript(0, 'printf "%s" "$HF_TOKEN" | sha256sum | cut -c1-16\n'),
      scriptPath,
      workingDir,
      tag,
      secretEnv: { HF_TOKEN: token },
    });
    submitted.push(jobId);
    await waitFor(async () => (await backend.statuses([jobId])).get(jobId)?.state === 'COMPLETED', {
      timeoutMs: 240_000,
      intervalMs: 1000,
      what: `job ${jobId} to complete`,
    });
    const out = await backend.readFile(posix.join(workingDir, `slurm-${jobId}.out`), 0, 4096);
    expect(out.data.toString()).toContain(createHash('sha256').update(token).digest('hex').slice(0, 16));
    expect(await readFile(scriptPath, 'utf8')).not.toContain(token);
  }, 300_000);

  it('cancels idempotently: a second cancel of the same job is success with alreadyEnded', async () => {
    const jobId = await submit(sleepScript(120), `sml-mcp:fcsched2${RUN}:0`);
    await waitFor(async () => (await backend.statuses([jobId])).get(jobId)?.state === 'RUNNING', {
      timeoutMs: 240_000,
      what: `job ${jobId} to run`,
    });
    expect(await backend.cancel(jobId)).toEqual({ jobId, alreadyEnded: false });
    const again = await backend.cancel(jobId);
    expect(again).toMatchObject({ jobId, alreadyEnded: true });
    const info = await waitFor(
      async () => {
        const job = (await backend.statuses([jobId])).get(jobId);
        return job?.state === 'CANCELLED' ? job : undefined;
      },
      { timeoutMs: 30_000, what: `job ${jobId} to read CANCELLED` },
    );
    expect(info.rawState).toMatch(/^CANCELLED by \d+$/);
  }, 300_000);

  it('treats "Invalid job id" as ended for a job that existed, and as NOT_FOUND otherwise', async () => {
    const jobId = submitted[0]!;
    double.faults.failNext(1, {
      status: 500,
      message: `Unexpected Slurm command response. exit_status:1 std_err:scancel: error: Kill job error on job id ${jobId}: Invalid job id specified\n`,
      match: { method: 'DELETE' },
    });
    const fresh = backendFor(double);
    try {
      expect(await fresh.cancel(jobId)).toMatchObject({ jobId, alreadyEnded: true });
      await expect(fresh.cancel('987654321')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(fresh.cancel('12_3')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await fresh.close();
    }
  });

  /**
   * A double with a fresh-submit quirk and a backend on it; `submitTagged(i)` submits job i and
   * `tagOf(ids, id)` is the tag one status sweep over `ids` reports for `id`.
   */
  async function withQuirkyDouble(
    options: FirecrestDoubleOptions,
    name: string,
    body: (tools: {
      double: FirecrestDouble;
      client: FirecrestScheduler;
      submitTagged: (index: number) => Promise<string>;
      tagOf: (ids: string[], id: string) => Promise<string | undefined>;
    }) => Promise<void>,
  ): Promise<void> {
    const quirky = await startDouble(options);
    const client = backendFor(quirky);
    try {
      const dir = await client.workingDir();
      const submitTagged = async (index: number) => {
        const { jobId } = await client.submit({
          script: sleepScript(5),
          scriptPath: posix.join(dir, `${name}${index}.sh`),
          workingDir: dir,
          tag: `sml-mcp:${name}${RUN}:${index}`,
        });
        submitted.push(jobId);
        return jobId;
      };
      const tagOf = async (ids: string[], id: string) => (await client.statuses(ids)).get(id)?.comment;
      await body({ double: quirky, client, submitTagged, tagOf });
    } finally {
      await client.close();
      await quirky.stop();
    }
  }

  // After the quirk, SLURM's own placeholder row may still linger a moment while the job starts.
  const afterQuirk = { timeoutMs: 10_000, what: 'the job behind the quirk' };

  it('leaves a job out while FirecREST still answers 404 right after the submit, then reports it', async () => {
    await withQuirkyDouble({ jobNotFoundPolls: 2 }, 'lagging', async ({ client, submitTagged, tagOf }) => {
      const jobId = await submitTagged(0);
      expect((await client.statuses([jobId])).size).toBe(0);
      expect((await client.statuses([jobId])).size).toBe(0);
      expect(await waitFor(() => tagOf([jobId], jobId), afterQuirk)).toBe(`sml-mcp:lagging${RUN}:0`);
    });
  });

  it("leaves a job out while FirecREST shows SLURM's placeholder accounting row for it, then reports it", async () => {
    await withQuirkyDouble(
      { placeholderPolls: 1 },
      'placeholder',
      async ({ double: quirky, client, submitTagged, tagOf }) => {
        const [one, two] = [await submitTagged(0), await submitTagged(1)];
        // By id: the first read is the placeholder (no name, no tag), a later one the job itself.
        expect((await client.statuses([one])).size).toBe(0);
        expect(await waitFor(() => tagOf([one], one), afterQuirk)).toBe(`sml-mcp:placeholder${RUN}:0`);
        // In a list: the placeholder is left out, and the job it hides is then read by id.
        expect(await waitFor(() => tagOf([one, two], two), afterQuirk)).toBe(`sml-mcp:placeholder${RUN}:1`);
        expect(quirky.requests.some((r) => r.method === 'GET' && r.path.endsWith(`/jobs/${two}`))).toBe(true);
      },
    );
  });

  it('answers statuses for unknown ids by leaving them out', async () => {
    const statuses = await backend.statuses(['987654321', 'not-an-id']);
    expect(statuses.size).toBe(0);
  });
});
