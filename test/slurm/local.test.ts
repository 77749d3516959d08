import { createSlurmScheduler, LocalRunner } from '../../src/scheduler/slurm/index.js';
import { defineBackendTests } from './backend-suite.js';

defineBackendTests('local', async () => ({
  create: ({ onTransfer, wrap } = {}) => {
    if (!wrap) return createSlurmScheduler({ kind: 'slurm' }, { onTransfer });
    return createSlurmScheduler({ kind: 'slurm' }, { runner: wrap(new LocalRunner({ onTransfer })) });
  },
  close: async () => {},
}));
