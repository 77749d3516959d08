import { defineConfig } from 'vitest/config';

/**
 * Two tiers, by folder. The cluster tier runs jobs on the one local SLURM cluster (four nodes) or
 * drives servers that do; its globalSetup brings the cluster up. Everything else under test/ is the
 * fast tier: no cluster (the in-memory scheduler of test/doubles/scheduler stands in), files in parallel.
 */
const CLUSTER_TIER = [
  'test/cluster/**/*.test.ts',
  'test/slurm/**/*.test.ts',
  'test/lifecycle/**/*.test.ts',
  'test/firecrest/**/*.test.ts',
  'test/faults/**/*.test.ts',
  'test/e2e/**/*.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: ['test/**/*.test.ts'],
          exclude: CLUSTER_TIER,
          // Most fast tests wait on child processes, timers and sockets, not on the CPU.
          maxWorkers: 4,
          // Files of a worker share loaded modules (a third less CPU): fast tests neither mock modules
          // nor change globals or process.env; a file that must can opt out with its own project.
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        // One file at a time: jobs of parallel files would queue for the same four nodes and time out.
        test: {
          name: 'cluster',
          include: CLUSTER_TIER,
          globalSetup: ['test/global-setup.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
