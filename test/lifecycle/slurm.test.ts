import { createSlurmScheduler } from '../../src/scheduler/slurm/index.js';
import { clusterEnv, describeOnCluster } from '../helpers/cluster.js';
import { defineLifecycleTests } from './suite.js';

describeOnCluster('launch lifecycle through the SLURM CLI backend', () => {
  defineLifecycleTests({
    makeScheduler: async () => createSlurmScheduler({ kind: 'slurm' }, { env: clusterEnv() }),
    cases: new Set(['single', 'router', 'vllm', 'packed', 'chain', 'failures']),
  });
});
