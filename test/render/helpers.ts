import { assetPath } from '../../src/assets.js';
import { loadShippedCatalog } from '../../src/catalog/catalog.js';
import { type EnvironmentFile, readEnvironmentFile } from '../../src/catalog/environment.js';
import {
  bindPreviousJob,
  buildLaunchSpecs,
  catalogEntryFor,
  LaunchRequest,
  type LaunchRequestInput,
  type LaunchSpec,
} from '../../src/domain/launch-spec.js';
import { BUILT_IN_SYSTEMS, type ContainerRuntime, SystemProfile } from '../../src/domain/system.js';

/** A built-in system, optionally with another container runtime (same GPUs, paths and services). */
export function systemNamed(name: string, containerRuntime?: ContainerRuntime): SystemProfile {
  const system = BUILT_IN_SYSTEMS.find((s) => s.name === name);
  if (!system) throw new Error(`no built-in system ${name}`);
  return containerRuntime ? SystemProfile.parse({ ...system, containerRuntime }) : system;
}

export const SHIPPED_SGLANG_ENV = readEnvironmentFile(assetPath('envs', 'sglang.toml'));

/** The specs of a launch as the job service would build them (user alice, launch id abc123). */
export function specsFor(
  input: LaunchRequestInput,
  options: {
    system?: SystemProfile;
    environment?: EnvironmentFile;
    user?: string;
    clusterPath?: string;
  } = {},
): LaunchSpec[] {
  const request = LaunchRequest.parse(input);
  const system = options.system ?? systemNamed('clariden');
  const catalogEntry = catalogEntryFor(request, loadShippedCatalog());
  const plan = buildLaunchSpecs(request, {
    system,
    user: options.user ?? 'alice',
    clusterAccount: { name: 'a-infra01' },
    environment: {
      clusterPath: options.clusterPath ?? '/capstor/store/envs/sglang.toml',
      file: options.environment ?? SHIPPED_SGLANG_ENV,
    },
    catalogEntry,
    launchId: 'abc123',
    version: '0.1.0',
  });
  return plan.specs.map((spec, i) => (i === 0 ? spec : bindPreviousJob(spec, String(1000 + i - 1))));
}
