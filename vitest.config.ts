import { defineConfig } from 'vitest/config';

/** Test files that run jobs on the one local SLURM cluster (four nodes), or drive servers that do. */
const CLUSTER_TESTS = [
  'test/cluster/**/*.test.ts',
  'test/slurm/**/*.test.ts',
  'test/lifecycle/**/*.test.ts',
  'test/firecrest/**/*.test.ts',
  'test/cli/**/*.test.ts',
  'test/mcp/**/*.test.ts',
];
/** Files in those folders that need no cluster. */
const CLUSTER_FREE = [
  'test/cluster/standins.test.ts',
  'test/firecrest/units.test.ts',
  'test/mcp/http.test.ts',
  'test/mcp/inspector.test.ts',
  'test/mcp/readme.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'fast',
          include: [
            'test/unit/**/*.test.ts',
            'test/jobs/**/*.test.ts',
            'test/render/**/*.test.ts',
            ...CLUSTER_FREE,
          ],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        // One file at a time: jobs of parallel files would queue for the same four nodes and time out.
        test: {
          name: 'cluster',
          include: CLUSTER_TESTS,
          exclude: CLUSTER_FREE,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
