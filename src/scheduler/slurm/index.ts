import { SmlError } from '../../errors.js';
import { type SlurmBackendOptions, SlurmCliScheduler } from './backend.js';
import { type ClusterRunner, LocalRunner, type RunnerOptions, SshRunner } from './runner.js';

export { type SlurmBackendOptions, SlurmCliScheduler } from './backend.js';
export * from './parse.js';
export {
  type ClusterRunner,
  LocalRunner,
  type RunnerOptions,
  SshRunner,
  type TransferEvent,
} from './runner.js';

/** The connections this backend serves (the `slurm` and `ssh` kinds of SchedulerConnection). */
export type SlurmConnection =
  | { kind: 'slurm' }
  | {
      kind: 'ssh';
      host: string;
      user?: string;
      port?: number;
      identityFile?: string;
      options?: string[];
      /** Environment for the SLURM commands on the login node (e.g. SLURM_CONF), sent as an `env K=V` prefix. */
      remoteEnv?: Record<string, string>;
    };

export interface SlurmSchedulerOptions extends RunnerOptions, SlurmBackendOptions {
  /** Use this runner instead of building one from the connection (tests wrap one to count calls). */
  runner?: ClusterRunner;
}

/**
 * A Scheduler over the SLURM CLI, on this machine (`kind: 'slurm'`) or on a login node over SSH.
 * `options.env` (and an ssh connection's `remoteEnv`) reach every SLURM command; SLURM_TIME_FORMAT is always `standard`.
 */
export function createSlurmScheduler(
  connection: SlurmConnection,
  options: SlurmSchedulerOptions = {},
): SlurmCliScheduler {
  if (options.runner) return new SlurmCliScheduler(options.runner, options);
  const runnerOptions: RunnerOptions = {
    timeoutMs: options.timeoutMs,
    env: options.env,
    onTransfer: options.onTransfer,
  };
  switch (connection.kind) {
    case 'slurm':
      return new SlurmCliScheduler(new LocalRunner(runnerOptions), options);
    case 'ssh':
      return new SlurmCliScheduler(
        new SshRunner(connection, { ...runnerOptions, env: { ...connection.remoteEnv, ...options.env } }),
        options,
      );
    default:
      throw new SmlError(
        'INVALID_ARGUMENT',
        `The SLURM backend cannot use a "${(connection as { kind: string }).kind}" connection.`,
        {
          hint: 'Use kind "slurm" (this machine) or "ssh" (a login node); FirecREST has its own backend.',
        },
      );
  }
}
