import type { Scheduler } from './scheduler.js';

/**
 * A Scheduler whose backend is built on its first call: the FirecREST backend pulls in undici and
 * its HTTP agent, which a session that never reaches that system should not load.
 */
export function lazyScheduler(kind: Scheduler['kind'], build: () => Promise<Scheduler>): Scheduler {
  let backend: Promise<Scheduler> | undefined;
  const get = () => {
    backend ??= build();
    return backend;
  };
  return {
    kind,
    whoami: async (options) => (await get()).whoami(options),
    workingDir: async (options) => (await get()).workingDir(options),
    submit: async (request, options) => (await get()).submit(request, options),
    statuses: async (jobIds, options) => (await get()).statuses(jobIds, options),
    findTaggedJobs: async (tagPrefix, options) => (await get()).findTaggedJobs(tagPrefix, options),
    cancel: async (jobId, options) => (await get()).cancel(jobId, options),
    readFile: async (path, offset, maxBytes, options) =>
      (await get()).readFile(path, offset, maxBytes, options),
    fileSize: async (path, options) => (await get()).fileSize(path, options),
    writeFile: async (path, content, options) => (await get()).writeFile(path, content, options),
    mkdir: async (path, options) => (await get()).mkdir(path, options),
    partitions: async (options) => (await get()).partitions(options),
    reservations: async (options) => (await get()).reservations(options),
  };
}
