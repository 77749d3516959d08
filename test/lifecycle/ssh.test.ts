import { afterAll } from 'vitest';
import { createSlurmScheduler } from '../../src/scheduler/slurm/index.js';
import { clusterEnv, describeOnCluster } from '../helpers/cluster.js';
import { type SshServer, startSshServer } from '../helpers/sshd.js';
import { defineLifecycleTests } from './suite.js';

describeOnCluster('launch lifecycle through the SSH backend (loopback sshd as the login node)', () => {
  let sshd: SshServer | undefined;
  afterAll(async () => {
    await sshd?.stop();
  });
  defineLifecycleTests({
    makeScheduler: async () => {
      sshd = await startSshServer();
      return createSlurmScheduler({
        kind: 'ssh',
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        identityFile: sshd.identityFile,
        options: sshd.options,
        remoteEnv: { SLURM_CONF: clusterEnv().SLURM_CONF! },
      });
    },
    cases: new Set(['single', 'failures']),
  });
});
