import type { ResolvedConfig } from '../src/config/load.js';
import type { SystemProfile } from '../src/domain/system.js';
import { SmlError } from '../src/errors.js';
import { firecrestCredentialsFromEnv, missingFirecrestAuthError } from '../src/scheduler/firecrest/auth.js';
import { lazyScheduler } from '../src/scheduler/lazy.js';
import type { Scheduler } from '../src/scheduler/scheduler.js';
import type { SystemsApi } from '../src/services.js';

export interface SystemsOptions {
  /** Extra environment for SLURM commands (e.g. SLURM_CONF of the local test cluster). */
  slurmEnv?: Record<string, string>;
}

/**
 * The systems of the configuration and one Scheduler per system, built on first use (its backend's
 * modules load with its first call). FirecREST credentials come from the environment (or the
 * secrets file) only, and are checked at once.
 */
export function createSystems(config: ResolvedConfig, options: SystemsOptions = {}): SystemsApi {
  const schedulers = new Map<string, Scheduler>();
  const build = (profile: SystemProfile): Scheduler => {
    const connection = profile.scheduler;
    if (connection.kind === 'firecrest') {
      const settings = firecrestCredentialsFromEnv(config.credentialEnv() as NodeJS.ProcessEnv, {
        tokenUri: connection.tokenUri,
      });
      if (!settings.auth) throw missingFirecrestAuthError();
      const { auth } = settings;
      return lazyScheduler('firecrest', async () =>
        (await import('../src/scheduler/firecrest/scheduler.js')).createFirecrestScheduler({
          url: settings.url ?? connection.url,
          auth,
          system: connection.system ?? profile.name,
        }),
      );
    }
    return lazyScheduler(connection.kind, async () =>
      (await import('../src/scheduler/slurm/index.js')).createSlurmScheduler(connection, {
        env: options.slurmEnv,
      }),
    );
  };
  return {
    profiles: () => config.systems,
    schedulerFor(profile) {
      let scheduler = schedulers.get(profile.name);
      if (!scheduler) {
        scheduler = build(profile);
        schedulers.set(profile.name, scheduler);
      }
      return scheduler;
    },
  };
}

/** The profile a request names, else the configured default; NOT_CONFIGURED when there is neither. */
export function resolveSystem(config: ResolvedConfig, name?: string): SystemProfile {
  const wanted = name ?? config.defaults.system;
  if (!wanted) {
    throw new SmlError('NOT_CONFIGURED', 'No system given and no default system is configured.', {
      hint: `Run \`sml-mcp init\` once, or pass system (list_systems shows them), or set SML_SYSTEM or "defaults.system" in ${config.configPath}.`,
    });
  }
  const profile = config.systems.find((system) => system.name === wanted);
  if (!profile) {
    throw new SmlError('UNKNOWN_SYSTEM', `System '${wanted}' is not known.`, {
      hint: `Known systems: ${config.systems.map((s) => s.name).join(', ')}; add your own under "systems" in ${config.configPath}.`,
    });
  }
  return profile;
}
