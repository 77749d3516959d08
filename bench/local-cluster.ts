import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from '../sbatch/render.js';
import { reviewRender } from '../sbatch/review.js';
import { PACKAGE_ROOT } from '../src/assets.js';
import { loadShippedCatalog } from '../src/catalog/catalog.js';
import { LaunchSpec, launchLayoutOf } from '../src/domain/launch-spec.js';
import { BUILT_IN_SYSTEMS } from '../src/domain/system.js';
import { Launcher } from '../src/jobs/launcher.js';
import { JobService } from '../src/jobs/service.js';
import { JobStore } from '../src/jobs/store.js';
import { createSlurmScheduler, type TransferEvent } from '../src/scheduler/slurm/index.js';

/**
 * The job service over the local test cluster (test/cluster/up.sh), for benches that run real
 * jobs: a fresh job store, the SLURM CLI with the cluster's env, every scheduler call reported.
 */

/** The variables test/cluster/env.sh exports (SLURM_CONF …). */
export function localClusterEnv(): Record<string, string> {
  const text = readFileSync(join(PACKAGE_ROOT, 'test', 'cluster', 'env.sh'), 'utf8');
  const env: Record<string, string> = {};
  for (const match of text.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) {
    const raw = match[2]!.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
    env[match[1]!] = raw.replace(/\$\{?([A-Z_]+)\}?/g, (_, name: string) => env[name] ?? '');
  }
  return env;
}

export function localJobService(
  options: {
    /** Rewrite the rendered scripts before they are submitted (a bench compares settings). */
    rewrite?: (scripts: ReturnType<typeof render>) => ReturnType<typeof render>;
    onTransfer?: (event: TransferEvent) => void;
    statusSweepTtlMs?: number;
    pollIntervalMs?: number;
    /** The job store's directory (default: a fresh one); services on one directory share it as CLIs do. */
    stateDir?: string;
  } = {},
) {
  const system = BUILT_IN_SYSTEMS.find((s) => s.name === 'local')!;
  const scheduler = createSlurmScheduler(
    { kind: 'slurm' },
    { env: localClusterEnv(), onTransfer: options.onTransfer },
  );
  const store = new JobStore(options.stateDir ?? mkdtempSync(join(tmpdir(), 'sml-bench-')));
  const resolveSystem = () => system;
  const launcher = new Launcher({
    store,
    catalog: loadShippedCatalog(),
    resolveSystem,
    schedulerFor: () => scheduler,
    localUser: () => 'root',
    render: async (spec) => (options.rewrite ?? ((scripts) => scripts))(render(spec)),
    review: async (spec, scripts) => reviewRender(spec, scripts),
    version: 'bench',
  });
  const service = new JobService({
    store,
    resolveSystem,
    schedulerFor: () => scheduler,
    launcher,
    layoutOf: (record) => launchLayoutOf(LaunchSpec.parse(record.spec)),
    pollIntervalMs: options.pollIntervalMs,
    statusSweepTtlMs: options.statusSweepTtlMs,
  });
  return { service, scheduler, store };
}

/** The stand-in deployment the benches launch: the catalog's small model, one replica. */
export const BENCH_LAUNCH = {
  model: 'swiss-ai/Apertus-8B-Instruct-2509',
  framework: 'sglang',
  system: 'local',
  time: '00:10:00',
};

/** The address of a local cluster node (n1 … n4 → 10.77.0.11 … 10.77.0.14). */
export function nodeAddress(node: string): string {
  return `10.77.0.1${node.replace(/^n/, '')}`;
}
