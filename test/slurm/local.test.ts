import { createSlurmScheduler } from '../../src/scheduler/slurm/index.js';
import { LocalRunner } from '../../src/scheduler/slurm/runner.js';
import { defineBackendTests } from './backend-suite.js';

defineBackendTests('local', async () => ({
  create: ({ onTransfer, wrap } = {}) => {
    if (!wrap) return createSlurmScheduler({ kind: 'slurm' }, { onTransfer });
    return createSlurmScheduler({ kind: 'slurm' }, { runner: wrap(new LocalRunner({ onTransfer })) });
  },
  close: async () => {},
}));
