import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BUILT_IN_SYSTEMS, type SystemProfile } from '../domain/system.js';
import { SmlError } from '../errors.js';
import { SECRETS_FILE_NAME } from './load.js';
import { ConfigFile } from './schema.js';

/**
 * What `sml-mcp init` writes: the config file (defaults, and the chosen system's profile when its
 * connection differs from the built-in one) and a secrets file readable by the user alone. Other
 * settings already in the files are kept.
 */

export type LauncherKind = 'firecrest' | 'slurm' | 'ssh';

export interface InitAnswers {
  launcher: LauncherKind;
  system: string;
  firecrestUrl?: string;
  firecrestTokenUri?: string;
  /** SSH alias of a login node, for `sml-mcp shell` on FirecREST systems. */
  clusterSshHost?: string;
  /** The login node for the `ssh` launcher. */
  sshHost?: string;
  partition?: string;
  account?: string;
  reservation?: string;
  /** Secret environment values (SML_FIRECREST_CLIENT_SECRET, …), written to the secrets file only. */
  secrets: Record<string, string>;
}

/** The profile the chosen system runs with: its built-in (or configured) one, reached as answered. */
export function profileFor(answers: InitAnswers, known: readonly SystemProfile[]): SystemProfile {
  const base = known.find((system) => system.name === answers.system);
  if (!base) {
    throw new SmlError('UNKNOWN_SYSTEM', `System '${answers.system}' is not known.`, {
      hint: `Choose one of ${known.map((s) => s.name).join(', ')}, or add its profile under "systems" in the config file first.`,
    });
  }
  if (answers.launcher === 'slurm') return { ...base, scheduler: { kind: 'slurm' } };
  if (answers.launcher === 'ssh') {
    if (!answers.sshHost)
      throw new SmlError('INVALID_ARGUMENT', 'The ssh launcher needs the login node (--ssh-host).');
    return { ...base, scheduler: { kind: 'ssh', host: answers.sshHost, options: [] } };
  }
  const previous = base.scheduler.kind === 'firecrest' ? base.scheduler : undefined;
  return {
    ...base,
    scheduler: {
      kind: 'firecrest',
      url: answers.firecrestUrl ?? previous?.url ?? 'https://api.cscs.ch/ml/firecrest/v2',
      tokenUri: answers.firecrestTokenUri ?? previous?.tokenUri,
      system: previous?.system,
      sshHost: answers.clusterSshHost || undefined,
    },
  };
}

function readJsonObject(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new SmlError('INVALID_ARGUMENT', `${path} is not a JSON object; init will not overwrite it.`, {
    hint: `Fix or move ${path}, then run sml-mcp init again.`,
  });
}

/** Write `text` to `path` through a temporary file with `mode`, so a reader never sees half of it. */
function writeFileAtomic(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

function sameConnection(a: SystemProfile, b: SystemProfile | undefined): boolean {
  return b !== undefined && JSON.stringify(a.scheduler) === JSON.stringify(b.scheduler);
}

/** Write the config and secrets files; returns their paths. */
export function writeInitFiles(
  answers: InitAnswers,
  paths: { configPath: string; configDir: string },
  known: readonly SystemProfile[],
): { configPath: string; secretsPath: string } {
  const profile = profileFor(answers, known);
  const config = readJsonObject(paths.configPath);
  const defaults = { ...((config.defaults as Record<string, unknown> | undefined) ?? {}) };
  defaults.system = answers.system;
  for (const key of ['partition', 'account', 'reservation'] as const) {
    if (answers[key]) defaults[key] = answers[key];
    else delete defaults[key];
  }
  config.defaults = defaults;
  const builtIn = BUILT_IN_SYSTEMS.find((system) => system.name === answers.system);
  const others = ((config.systems as { name?: string }[] | undefined) ?? []).filter(
    (s) => s.name !== answers.system,
  );
  // A built-in system reached the built-in way needs no profile of its own.
  config.systems = sameConnection(profile, builtIn) ? others : [...others, profile];
  if ((config.systems as unknown[]).length === 0) delete config.systems;
  const checked = ConfigFile.safeParse(config);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new SmlError(
      'INVALID_ARGUMENT',
      `The new config would be invalid at ${issue.path.join('.')}: ${issue.message}.`,
      {
        hint: `Fix ${paths.configPath} by hand, or move it away and run sml-mcp init again.`,
      },
    );
  }
  writeFileAtomic(paths.configPath, `${JSON.stringify(config, null, 2)}\n`, 0o644);

  const secretsPath =
    typeof config.secretsFile === 'string'
      ? resolve(paths.configDir, config.secretsFile)
      : join(paths.configDir, SECRETS_FILE_NAME);
  const secrets = { ...readJsonObject(secretsPath), ...answers.secrets };
  writeFileAtomic(secretsPath, `${JSON.stringify(secrets, null, 2)}\n`, 0o600);
  return { configPath: paths.configPath, secretsPath };
}
