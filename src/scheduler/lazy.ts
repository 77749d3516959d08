import { lazyApi } from '../lazy.js';
import type { Scheduler } from './scheduler.js';

type SchedulerCalls = Omit<Scheduler, 'kind'>;

const SCHEDULER_CALLS: { readonly [K in keyof SchedulerCalls]-?: true } = {
  whoami: true,
  workingDir: true,
  submit: true,
  statuses: true,
  findTaggedJobs: true,
  cancel: true,
  readFile: true,
  fileSize: true,
  writeFile: true,
  mkdir: true,
  partitions: true,
  reservations: true,
};

/**
 * A Scheduler whose backend is built on its first call: the FirecREST backend pulls in undici and
 * its HTTP agent, the SLURM one its command runner and parsers, which a session that never
 * reaches that system should not load.
 */
export function lazyScheduler(kind: Scheduler['kind'], build: () => Promise<Scheduler>): Scheduler {
  return { kind, ...lazyApi<SchedulerCalls>(SCHEDULER_CALLS, build) };
}
