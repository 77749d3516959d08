import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Cluster tests share one real SLURM cluster of four nodes; files run one at a time there.
    fileParallelism: true,
    pool: 'forks',
  },
});
