import { type Catalog, createCatalog, loadShippedCatalog } from '../src/catalog/catalog.js';
import type { ResolvedConfig } from '../src/config/load.js';
import type { LocalFilePolicy } from '../src/config/local-files.js';
import type { JobServiceApi } from '../src/jobs/api.js';
import { RenderCache } from '../src/jobs/render-cache.js';
import type { JobServiceDeps } from '../src/jobs/service.js';
import { lazyApi } from '../src/lazy.js';
import type { LoadTestApi, ServerDeps, SizerApi, SystemsApi } from '../src/services.js';
import type { HubOptions } from '../src/sizing/source.js';
import { createSystems, resolveSystem, type SystemsOptions } from './systems.js';

/** The shipped catalog with the config file's entries; an entry for the same model and framework replaces the shipped one. */
export function buildCatalog(config: ResolvedConfig): Catalog {
  const shipped = loadShippedCatalog();
  if (config.catalogExtras.length === 0) return shipped;
  const key = (entry: { model: string; framework: string }) => `${entry.model}\u0000${entry.framework}`;
  const replaced = new Set(config.catalogExtras.map(key));
  return createCatalog(
    [...shipped.entries.filter((entry) => !replaced.has(key(entry))), ...config.catalogExtras],
    `models.json + ${config.configPath}`,
  );
}

export interface BuildDepsOptions extends SystemsOptions {
  /** How launches are planned, rendered and submitted (the job service's launcher). */
  launcher?: JobServiceDeps['launcher'];
  sizer?: SizerApi;
  /** Hugging Face Hub access for size_model (false: registry and local configs only). */
  hub?: HubOptions | false;
  /** Which files of this machine tool inputs may name (default any: the local user over stdio). */
  localFiles?: LocalFilePolicy;
  watchIntervalMs?: number;
  pollIntervalMs?: number;
  /** The systems and their schedulers (default: from the configuration; tests pass an in-memory one). */
  systems?: SystemsApi;
  /** How long a lost submit may still land before it counts as never queued (tests shorten it). */
  submitSettleMs?: number;
  /** How long one status sweep serves every caller (default 1.5 s). */
  statusSweepTtlMs?: number;
}

/**
 * Everything a server needs, from a loaded configuration. Nothing heavy is built here: the job
 * service, the schedulers and the catalog load on first use, so a server answers its first
 * requests (initialize, tools/list) without loading the code that launches and watches jobs.
 */
export function buildServerDeps(config: ResolvedConfig, options: BuildDepsOptions = {}): ServerDeps {
  const systems = options.systems ?? createSystems(config, options);
  let catalog: Catalog | undefined;
  const catalogOf = () => {
    catalog ??= buildCatalog(config);
    return catalog;
  };
  const renders = new RenderCache();
  const jobs = lazyApi<JobServiceApi>(JOB_SERVICE_CALLS, async () =>
    (await import('./job-service.js')).createJobService(config, systems, catalogOf(), options, renders),
  );
  return {
    config,
    systems,
    get catalog() {
      return catalogOf();
    },
    renders,
    jobs,
    loadtests: lazyLoadTests(config, systems, jobs, options.pollIntervalMs),
    sizer: options.sizer ?? createSizerFor(config, systems, catalogOf, options.hub, options.localFiles),
    watchIntervalMs: options.watchIntervalMs,
  };
}

const JOB_SERVICE_CALLS: { readonly [K in keyof JobServiceApi]-?: true } = {
  launch: true,
  status: true,
  waitFor: true,
  readLog: true,
  listLogFiles: true,
  cancel: true,
  describeCancel: true,
  scripts: true,
  metrics: true,
  knownJobIds: true,
};

/** The load-test service, imported with its renderer on the first load-test call: a session that runs none never loads them. */
function lazyLoadTests(
  config: ResolvedConfig,
  systems: SystemsApi,
  jobs: JobServiceApi,
  pollIntervalMs?: number,
): LoadTestApi {
  return lazyApi<LoadTestApi>(LOAD_TEST_CALLS, async () => {
    const [{ LoadTestService }, { renderLoadJob }, { JobStore }] = await Promise.all([
      import('../src/loadtest/service.js'),
      import('../sbatch/loadtest.js'),
      import('../src/jobs/store.js'),
    ]);
    return new LoadTestService({
      stateDir: config.stateDir,
      jobs,
      store: new JobStore(config.stateDir),
      resolveSystem: (name) => resolveSystem(config, name),
      schedulerFor: (profile) => systems.schedulerFor(profile),
      defaults: config.defaults,
      pollIntervalMs,
      renderLoadJob,
    });
  });
}

const LOAD_TEST_CALLS: { readonly [K in keyof LoadTestApi]-?: true } = {
  start: true,
  get: true,
  wait: true,
  list: true,
  chart: true,
};

/** The sizing planner over the configured systems, their model registries and the catalog. */
export function createSizerFor(
  config: ResolvedConfig,
  systems: SystemsApi,
  catalogOf: () => Catalog,
  hub?: HubOptions | false,
  localFiles?: LocalFilePolicy,
): SizerApi {
  return {
    size: async (input, options = {}) => {
      const system = config.systems.find((s) => s.name === (input.system ?? config.defaults.system));
      // The sizing engine (a dozen modules) loads on the first sizing, not at server start.
      const { catalogModelResolver, sizeModel } = await import('../src/sizing/size-model.js');
      return sizeModel(input, {
        systems: config.systems,
        defaultSystem: config.defaults.system,
        schedulerFor: (profile) => systems.schedulerFor(profile),
        resolveCatalogModel: catalogModelResolver(catalogOf().entries, system?.modelRegistry),
        hub,
        localFiles,
        signal: options.signal,
      });
    },
  };
}
