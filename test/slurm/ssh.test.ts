import { createSlurmScheduler, type SlurmConnection, SshRunner } from '../../src/scheduler/slurm/index.js';
import { startSshServer } from '../helpers/sshd.js';
import { defineBackendTests } from './backend-suite.js';

defineBackendTests('ssh', async () => {
  const server = await startSshServer();
  const connection = {
    kind: 'ssh',
    host: server.host,
    port: server.port,
    user: server.user,
    identityFile: server.identityFile,
    options: server.options,
    // sshd gives the remote shell a clean environment: the cluster's client config travels with each command.
    remoteEnv: { SLURM_CONF: process.env.SLURM_CONF! },
  } satisfies SlurmConnection;
  return {
    create: ({ onTransfer, wrap } = {}) => {
      if (!wrap) return createSlurmScheduler(connection, { onTransfer });
      return createSlurmScheduler(connection, {
        runner: wrap(new SshRunner(connection, { env: connection.remoteEnv, onTransfer })),
      });
    },
    close: () => server.stop(),
  };
});
