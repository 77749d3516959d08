import { createHash, randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Framework } from '../domain/framework.js';
import type { TelemetryView } from '../domain/launch-spec.js';
import type { SlurmSettings } from '../domain/slurm-settings.js';
import { SmlError } from '../errors.js';
import type { JobInfo } from '../scheduler/scheduler.js';

/**
 * The local record of every launch, one JSON file per launch. Writes are atomic (temp file,
 * fsync, rename), so a crash mid-write leaves the previous version; concurrent writers to one
 * launch are serialised by a lock file; idempotency keys are claimed with an exclusive create,
 * so two retries of one launch can never both submit.
 */

export interface LaunchJobRecord {
  /** Index in the chain (0 for a single job). */
  index: number;
  /** Tag written into the job's --comment; finds the job from SLURM alone. */
  tag: string;
  /** Undefined until sbatch answered (or the tag was found after an ambiguous failure). */
  job_id?: string;
  /**
   * `submitting` is written before sbatch is called, so a crash leaves a trace to recover from;
   * `ambiguous` means sbatch's answer was lost: the job may exist, and only its tag can tell.
   */
  state: 'planned' | 'submitting' | 'ambiguous' | 'submitted' | 'failed';
  /** When `submitting` was written (ISO): a submit lost for longer than the settle time never landed. */
  submitting_since?: string;
  error?: string;
  /** Rendered scripts of this job (master.sh, head.sh, …). */
  scripts: Record<string, string>;
  /** When this job runs, as SML prints it ("runs now → +12h", "9h after 123 starts"). */
  runs: string;
}

export interface LaunchRecord {
  launch_id: string;
  created_at: string;
  idempotency_key?: string;
  system: string;
  user: string;
  served_model_name: string;
  framework: Framework;
  working_dir: string;
  /** The resolved LaunchSpec of the first job, as JSON (for log file lists, ports, endpoints). */
  spec: Record<string, unknown>;
  request: Record<string, unknown>;
  jobs: LaunchJobRecord[];
  /** Partition, account and reservation with their origin (absent in records of older versions). */
  slurm_settings?: SlurmSettings;
  /** Whether the jobs post the launch record (absent in records of older versions). */
  telemetry?: TelemetryView;
  warnings: string[];
  /** The process submitting this launch: while it lives, unsettled jobs are in flight, not stranded. */
  owner?: { pid: number; host: string };
}

const LOCK_STALE_MS = 30_000;
// Records hold scripts, endpoints and requests: for the user alone, like ~/.ssh.
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** One status sweep of a system: what the scheduler said of `ids` (absent ones it does not know) at `at` (ms). */
export interface SharedSweep {
  at: number;
  ids: string[];
  jobs: JobInfo[];
}

export class JobStore {
  private readonly launchesDir: string;
  private readonly keysDir: string;
  private readonly sweepsDir: string;

  constructor(readonly root: string) {
    this.launchesDir = join(root, 'launches');
    this.keysDir = join(root, 'idempotency');
    this.sweepsDir = join(root, 'sweeps');
  }

  /** The last status sweep of a system, shared by every sml-mcp process on this state (several `logs -f`). */
  async readSweep(system: string): Promise<SharedSweep | undefined> {
    const text = await readFile(this.sweepPathOf(system), 'utf8').catch(() => '');
    try {
      return text ? (JSON.parse(text) as SharedSweep) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Forget a system's last sweep (a launch or cancel just changed what it would say). */
  async removeSweep(system: string): Promise<void> {
    await rm(this.sweepPathOf(system), { force: true });
  }

  async writeSweep(system: string, sweep: SharedSweep): Promise<void> {
    await this.ensureDir(this.sweepsDir);
    await this.writeAtomic(this.sweepPathOf(system), sweep);
  }

  async create(record: LaunchRecord): Promise<void> {
    await this.ensureDir(this.launchesDir);
    await this.writeAtomic(this.pathOf(record.launch_id), record);
  }

  async get(launchId: string): Promise<LaunchRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.pathOf(launchId), 'utf8')) as LaunchRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Remove a launch record (one that lost its idempotency key to an earlier launch before submitting anything). */
  async remove(launchId: string): Promise<void> {
    await rm(this.pathOf(launchId), { force: true });
  }

  /** Read-modify-write one launch under its lock. */
  async update(launchId: string, change: (record: LaunchRecord) => void): Promise<LaunchRecord> {
    return this.withLock(launchId, async () => {
      const record = await this.get(launchId);
      if (!record) throw new SmlError('NOT_FOUND', `Launch ${launchId} has no local record.`);
      change(record);
      await this.writeAtomic(this.pathOf(launchId), record);
      return record;
    });
  }

  async list(): Promise<LaunchRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.launchesDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const records: LaunchRecord[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const record = await this.get(name.slice(0, -'.json'.length)).catch(() => undefined);
      if (record) records.push(record);
    }
    return records.sort((a, b) => b.created_at.localeCompare(a.created_at));
  }

  async findByJobId(jobId: string): Promise<{ launch: LaunchRecord; job: LaunchJobRecord } | undefined> {
    for (const launch of await this.list()) {
      const job = launch.jobs.find((j) => j.job_id === jobId);
      if (job) return { launch, job };
    }
    return undefined;
  }

  /**
   * Claim an idempotency key for a new launch. Returns the launch id that already owns the key
   * when an earlier call claimed it, else undefined (and the key now belongs to `launchId`).
   */
  async claimIdempotencyKey(key: string, launchId: string): Promise<string | undefined> {
    await this.ensureDir(this.keysDir);
    const path = this.keyPathOf(key);
    try {
      const handle = await open(path, 'wx', FILE_MODE);
      await handle.writeFile(JSON.stringify({ launch_id: launchId }));
      await handle.sync();
      await handle.close();
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // The owner may still be writing its claim; read until it is complete.
      for (let attempt = 0; attempt < 50; attempt++) {
        const text = await readFile(path, 'utf8').catch(() => '');
        if (text) return (JSON.parse(text) as { launch_id: string }).launch_id;
        await sleep(20);
      }
      throw new SmlError('CONFLICT', `Idempotency key "${key}" is being claimed by another call.`, {
        hint: 'Retry the call in a moment.',
      });
    }
  }

  /** Free an idempotency key, but only while `launchId` still owns it. */
  async releaseIdempotencyKey(key: string, launchId: string): Promise<void> {
    const path = this.keyPathOf(key);
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text && (JSON.parse(text) as { launch_id: string }).launch_id === launchId)
      await rm(path, { force: true });
  }

  /** Create a directory of the store for the user alone; a root left 0755 by older versions is narrowed. */
  private async ensureDir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    for (const path of [this.root, dir]) {
      if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, DIR_MODE);
    }
  }

  private sweepPathOf(system: string): string {
    return join(this.sweepsDir, `${createHash('sha256').update(system).digest('hex').slice(0, 32)}.json`);
  }

  private keyPathOf(key: string): string {
    return join(this.keysDir, `${createHash('sha256').update(key).digest('hex')}.json`);
  }

  private pathOf(launchId: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(launchId)) {
      throw new SmlError('INVALID_ARGUMENT', `"${launchId}" is not a launch id.`);
    }
    return join(this.launchesDir, `${launchId}.json`);
  }

  private async writeAtomic(path: string, value: unknown): Promise<void> {
    await writeJsonAtomic(path, value);
  }

  private async withLock<T>(launchId: string, work: () => Promise<T>): Promise<T> {
    const lockPath = `${this.pathOf(launchId)}.lock`;
    const deadline = Date.now() + LOCK_STALE_MS * 2;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx', FILE_MODE);
        await handle.writeFile(`${process.pid} ${Date.now()}`);
        await handle.close();
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        // A lock left by a crashed writer is broken after LOCK_STALE_MS.
        const text = await readFile(lockPath, 'utf8').catch(() => '');
        const since = Number(text.split(' ')[1] ?? Date.now());
        if (Date.now() - since > LOCK_STALE_MS) await rm(lockPath, { force: true });
        else if (Date.now() > deadline)
          throw new SmlError('CONFLICT', `Launch ${launchId} is locked by another writer.`);
        else await sleep(10 + Math.random() * 20);
      }
    }
    try {
      return await work();
    } finally {
      await rm(lockPath, { force: true });
    }
  }
}

/** Write JSON through a temp file, fsync and rename: readers see the old or the new file, never half. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const handle = await open(temp, 'w', FILE_MODE);
  try {
    await handle.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}
