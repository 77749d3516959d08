import { userInfo } from 'node:os';
import type { Catalog } from '../src/catalog/catalog.js';
import type { ResolvedConfig } from '../src/config/load.js';
import { LaunchSpec, launchLayoutOf } from '../src/domain/launch-spec.js';
import type { SystemProfile } from '../src/domain/system.js';
import type { JobServiceApi } from '../src/jobs/api.js';
import { Launcher } from '../src/jobs/launcher.js';
import { RenderCache } from '../src/jobs/render-cache.js';
import { JobService } from '../src/jobs/service.js';
import { JobStore } from '../src/jobs/store.js';
import type { SystemsApi } from '../src/services.js';
import { PACKAGE_VERSION } from '../src/version.js';
import type { BuildDepsOptions } from './build-deps.js';
import { resolveSystem } from './systems.js';

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
