import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { render } from '../../sbatch/render.js';
import { loadShippedCatalog } from '../catalog/catalog.js';
import { readEnvironmentFile, resolveEnvironmentReference } from '../catalog/environment.js';
import { newLaunchId } from '../domain/job-name.js';
import {
  buildLaunchSpecs,
  catalogEntryFor,
  environmentReferenceFor,
  LaunchRequest,
  type LaunchRequestInput,
  type LaunchSpec,
} from '../domain/launch-spec.js';
import { BUILT_IN_SYSTEMS, type SystemProfile } from '../domain/system.js';
import { SmlError } from '../errors.js';

/**
 * `sml-mcp render`: plan a launch and write its job scripts into a folder without submitting
 * (later served by the `launch` tool with dry_run). The environment file is read on this machine
 * (a shipped name or a local path) and referenced by that path in the scripts, as SML's
 * --output-script does. A chain renders its first job.
 */

export interface RenderToDirectoryOptions {
  out: string;
  request: LaunchRequestInput;
  /** Cluster user namespacing the served name (default: the local user). */
  user?: string;
  /** Profiles to choose `request.system` from (default: the built-in ones). */
  systems?: readonly SystemProfile[];
  /** System used when the request names none. */
  defaultSystem?: string;
  /** Resolves relative environment paths (default: the process cwd). */
  cwd?: string;
  version?: string;
}

export interface RenderToDirectoryResult {
  directory: string;
  /** File names written, master.sh first. */
  files: string[];
  spec: LaunchSpec;
  warnings: string[];
}

export const DEFAULT_RENDER_SYSTEM = 'clariden';

export function findSystem(systems: readonly SystemProfile[], name: string): SystemProfile {
  const system = systems.find((s) => s.name === name);
  if (!system) {
    throw new SmlError('UNKNOWN_SYSTEM', `Unknown system '${name}'.`, {
      hint: `Known systems: ${systems.map((s) => s.name).join(', ')}.`,
    });
  }
  return system;
}

export function renderToDirectory(options: RenderToDirectoryOptions): RenderToDirectoryResult {
  const parsed = LaunchRequest.safeParse(options.request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || 'request';
    throw new SmlError('INVALID_ARGUMENT', `${field}: ${issue.message}.`, { details: { field } });
  }
  const request = parsed.data;
  const systems = options.systems ?? BUILT_IN_SYSTEMS;
  const system = findSystem(systems, request.system ?? options.defaultSystem ?? DEFAULT_RENDER_SYSTEM);
  const catalogEntry = catalogEntryFor(request, loadShippedCatalog());
  const reference = resolveEnvironmentReference(
    environmentReferenceFor(request, catalogEntry, system),
    options.cwd,
  );
  const plan = buildLaunchSpecs(request, {
    system,
    user: options.user ?? userInfo().username,
    environment: { clusterPath: reference.path, file: readEnvironmentFile(reference.path) },
    catalogEntry,
    launchId: newLaunchId(),
    version: options.version,
  });
  const spec = plan.specs[0]!;
  const warnings = [...plan.warnings];
  if (plan.specs.length > 1) {
    warnings.push(
      `This launch is a chain of ${plan.specs.length} jobs; rendered the first. The others differ in --time and --dependency on their predecessor.`,
    );
  }
  const scripts = render(spec);
  const directory = resolve(options.out);
  mkdirSync(directory, { recursive: true });
  const files = Object.keys(scripts).sort((a, b) =>
    a === 'master.sh' ? -1 : b === 'master.sh' ? 1 : a.localeCompare(b),
  );
  for (const name of files) {
    const path = join(directory, name);
    writeFileSync(path, scripts[name as keyof typeof scripts]!);
    chmodSync(path, 0o755);
  }
  return { directory, files, spec, warnings };
}
