import { userInfo } from 'node:os';
import { type Catalog, createCatalog, loadShippedCatalog } from '../src/catalog/catalog.js';
import type { ResolvedConfig } from '../src/config/load.js';
import type { LocalFilePolicy } from '../src/config/local-files.js';
import { LaunchSpec, launchLayoutOf } from '../src/domain/launch-spec.js';
import type { SystemProfile } from '../src/domain/system.js';
import type { JobServiceApi } from '../src/jobs/api.js';
import { Launcher } from '../src/jobs/launcher.js';
import { RenderCache } from '../src/jobs/render-cache.js';
import { JobService, type JobServiceDeps } from '../src/jobs/service.js';
import { JobStore } from '../src/jobs/store.js';
import type { LoadTestDeps } from '../src/loadtest/service.js';
import type { LoadTestApi, ServerDeps, SizerApi, SystemsApi } from '../src/services.js';
import type { HubOptions } from '../src/sizing/source.js';
import { PACKAGE_VERSION } from '../src/version.js';
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

/** The job service and its launcher over one job store (`config.stateDir`). */
export function createJobService(
  config: ResolvedConfig,
  systems: SystemsApi,
  catalog: Catalog,
  options: Pick<
    BuildDepsOptions,
    'launcher' | 'pollIntervalMs' | 'localFiles' | 'submitSettleMs' | 'statusSweepTtlMs'
  > = {},
  renders = new RenderCache(),
): JobServiceApi {
  const store = new JobStore(config.stateDir);
  const systemNamed = (name?: string) => resolveSystem(config, name);
  const schedulerFor = (profile: SystemProfile) => systems.schedulerFor(profile);
  const launcher =
    options.launcher ??
    new Launcher({
      store,
      catalog,
      resolveSystem: systemNamed,
      schedulerFor,
      localUser: () => userInfo().username,
      // The renderer loads with the first launch, not at server start.
      render: async (spec) => (await import('../sbatch/render.js')).render(spec),
      review: async (spec, scripts) => (await import('../sbatch/review.js')).reviewRender(spec, scripts),
      configuredDefaults: () => ({
        values: config.defaults,
        sources: config.sources,
        configPath: config.configPath,
        telemetryOptOut: config.telemetryOptOut,
      }),
      huggingFaceToken: () => {
        const env = config.credentialEnv();
        return env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined;
      },
      version: PACKAGE_VERSION,
      localFiles: options.localFiles,
      renders,
      submitSettleMs: options.submitSettleMs,
    });
  return new JobService({
    store,
    resolveSystem: systemNamed,
    schedulerFor,
    launcher,
    layoutOf: (record, jobId) => launchLayoutOf(LaunchSpec.parse(record.spec), jobId),
    pollIntervalMs: options.pollIntervalMs,
    submitSettleMs: options.submitSettleMs,
    statusSweepTtlMs: options.statusSweepTtlMs,
    gatewayKey: () => config.credentialEnv().SML_SWISSAI_RESEARCH_API_KEY || undefined,
  });
}

/** Everything a server needs, from a loaded configuration. */
export function buildServerDeps(config: ResolvedConfig, options: BuildDepsOptions = {}): ServerDeps {
  const systems = options.systems ?? createSystems(config, options);
  const catalog = buildCatalog(config);
  const renders = new RenderCache();
  const jobs = createJobService(config, systems, catalog, options, renders);
  return {
    config,
    systems,
    catalog,
    renders,
    jobs,
    loadtests: lazyLoadTests({
      stateDir: config.stateDir,
      jobs,
      store: new JobStore(config.stateDir),
      resolveSystem: (name) => resolveSystem(config, name),
      schedulerFor: (profile) => systems.schedulerFor(profile),
      defaults: config.defaults,
      pollIntervalMs: options.pollIntervalMs,
    }),
    sizer: options.sizer ?? createSizerFor(config, systems, catalog, options.hub, options.localFiles),
    watchIntervalMs: options.watchIntervalMs,
  };
}

/** The load-test service, imported with its renderer on the first load-test call: a session that runs none never loads them. */
function lazyLoadTests(deps: Omit<LoadTestDeps, 'renderLoadJob'>): LoadTestApi {
  let service: Promise<LoadTestApi> | undefined;
  const get = () => {
    service ??= Promise.all([import('../src/loadtest/service.js'), import('../sbatch/loadtest.js')]).then(
      ([{ LoadTestService }, { renderLoadJob }]) => new LoadTestService({ ...deps, renderLoadJob }),
    );
    return service;
  };
  return {
    start: async (input, options) => (await get()).start(input, options),
    get: async (...args) => (await get()).get(...args),
    wait: async (...args) => (await get()).wait(...args),
    list: async (jobId) => (await get()).list(jobId),
    chart: async (runId, options) => (await get()).chart(runId, options),
  };
}

/** The sizing planner over the configured systems, their model registries and the catalog. */
export function createSizerFor(
  config: ResolvedConfig,
  systems: SystemsApi,
  catalog: Catalog,
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
        resolveCatalogModel: catalogModelResolver(catalog.entries, system?.modelRegistry),
        hub,
        localFiles,
        signal: options.signal,
      });
    },
  };
}
