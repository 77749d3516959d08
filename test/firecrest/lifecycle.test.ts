import { afterAll } from 'vitest';
import type { FirecrestDouble } from '../doubles/firecrest/index.js';
import { describeOnCluster } from '../helpers/cluster.js';
import { defineLifecycleTests } from '../lifecycle/suite.js';
import { backendFor, startDouble } from './harness.js';

describeOnCluster('launch lifecycle through the FirecREST backend (double on the local cluster)', () => {
  let double: FirecrestDouble | undefined;
  afterAll(async () => {
    await double?.stop();
  });
  defineLifecycleTests({
    makeScheduler: async () => {
      // Every job goes through both quirks of a fresh submit: a 404, then SLURM's placeholder row.
      double = await startDouble({ jobNotFoundPolls: 1, placeholderPolls: 1 });
      return backendFor(double, { timeouts: { requestMs: 30_000, retryBudgetMs: 60_000 } });
    },
    cases: new Set(['single', 'router', 'chain', 'failures']),
  });
});
