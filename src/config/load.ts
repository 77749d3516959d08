import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { CatalogEntry } from '../catalog/catalog.js';
import { BUILT_IN_SYSTEMS, type SystemProfile } from '../domain/system.js';
import { SmlError } from '../errors.js';
import { ConfigFile } from './schema.js';
import { collectSecretValues, createRedactor, type Redactor, readSecretsFile } from './secrets.js';

/**
 * Loads the configuration: command-line flags over environment variables over the config file
 * over built-in defaults. The file is `<config dir>/mcp.json`, where the config dir is
 * `$SML_CONFIG_DIR` or `~/.sml` (as in SML); `$SML_MCP_CONFIG` or `--config` name another file.
 */

export const CONFIG_FILE_NAME = 'mcp.json';
export const SECRETS_FILE_NAME = 'secrets.json';
export const DEFAULT_HTTP_PORT = 8765;
export const DEFAULT_MAX_HTTP_SESSIONS = 100;

export type Env = Readonly<Record<string, string | undefined>>;
export type SettingSource = 'flag' | 'env' | 'file';
export type DefaultKey = 'system' | 'partition' | 'account' | 'reservation';

export interface ConfigFlags {
  system?: string;
  partition?: string;
  account?: string;
  reservation?: string;
  /** Path of the config file (`--config`). */
  configPath?: string;
}

export interface HttpSettings {
  host: string;
  port: number;
  allowedHosts: string[];
  allowedOrigins: string[];
  sessionIdleSeconds: number;
  maxBodyBytes: number;
  maxSessions: number;
  /** Directories whose files remote (HTTP) clients may name; relative ones against the config dir. */
  localPathRoots: string[];
}

export interface ResolvedConfig {
  configDir: string;
  configPath: string;
  hasConfigFile: boolean;
  /** Launch defaults after precedence; each one's origin is in `sources`. */
  defaults: Partial<Record<DefaultKey, string>>;
  sources: Partial<Record<DefaultKey, SettingSource>>;
  /** Built-in systems, with user profiles of the same name replacing them, then the user's others. */
  systems: SystemProfile[];
  userSystemNames: string[];
  catalogExtras: CatalogEntry[];
  stateDir: string;
  http: HttpSettings;
  /** True when a default system is set (a flag, SML_SYSTEM or the file): cluster tools can run. */
  isClusterConfigured: boolean;
  /** Set when telemetry is switched off by SML_TELEMETRY or the config file: where. */
  telemetryOptOut?: string;
  /** Problems worth telling the user at start (unknown default system, …). Never secrets. */
  warnings: string[];
  /** Replaces every known secret value in a text. */
  redact: Redactor;
  /** The environment with secrets-file values filled in (the environment wins); for credential helpers only. */
  credentialEnv(): Env;
}

const ENV_NAMES: Record<DefaultKey, string> = {
  system: 'SML_SYSTEM',
  partition: 'SML_PARTITION',
  account: 'SML_ACCOUNT',
  reservation: 'SML_RESERVATION',
};

export function configDirFrom(env: Env): string {
  return env.SML_CONFIG_DIR ? resolve(env.SML_CONFIG_DIR) : join(env.HOME || homedir(), '.sml');
}

export function configPathFrom(env: Env, flags: ConfigFlags = {}): string {
  const explicit = flags.configPath ?? env.SML_MCP_CONFIG;
  return explicit ? resolve(explicit) : join(configDirFrom(env), CONFIG_FILE_NAME);
}

function readConfigFile(path: string): ConfigFile | undefined {
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
    raw = JSON.parse(text);
  } catch (error) {
    const position = Number(/at position (\d+)/.exec((error as Error).message)?.[1]);
    const before = text.slice(0, Number.isFinite(position) ? position : 0).split('\n');
    const where = Number.isFinite(position)
      ? ` (line ${before.length}, column ${before.at(-1)!.length + 1})`
      : '';
    throw new SmlError('INVALID_ARGUMENT', `Config file ${path} is not valid JSON${where}.`, {
      hint: 'Fix the syntax; `sml-mcp config schema` prints the JSON Schema it must follow.',
      cause: error,
    });
  }
  const result = ConfigFile.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new SmlError('INVALID_ARGUMENT', `Config file ${path} is invalid: ${problems}.`, {
      hint: 'Fix these fields; `sml-mcp config schema` prints the JSON Schema the file must follow.',
    });
  }
  return result.data;
}

function mergeSystems(userSystems: readonly SystemProfile[]): SystemProfile[] {
  const byName = new Map(BUILT_IN_SYSTEMS.map((system) => [system.name, system]));
  for (const system of userSystems) byName.set(system.name, system);
  return [...byName.values()];
}

export interface LoadConfigOptions {
  env?: Env;
  flags?: ConfigFlags;
}

export function loadConfig(options: LoadConfigOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const configDir = configDirFrom(env);
  const configPath = configPathFrom(env, flags);
  const file = readConfigFile(configPath);

  const defaults: Partial<Record<DefaultKey, string>> = {};
  const sources: Partial<Record<DefaultKey, SettingSource>> = {};
  for (const key of Object.keys(ENV_NAMES) as DefaultKey[]) {
    const candidates: [string | undefined, SettingSource][] = [
      [flags[key], 'flag'],
      [env[ENV_NAMES[key]], 'env'],
      [file?.defaults?.[key], 'file'],
    ];
    const found = candidates.find(([value]) => value !== undefined && value !== '');
    if (found) {
      defaults[key] = found[0];
      sources[key] = found[1];
    }
  }

  const secretsPath = resolveSecretsPath(env, configDir, file);
  const fileSecrets = secretsPath ? readSecretsFile(secretsPath) : {};
  const mergedEnv: Env = Object.freeze({ ...fileSecrets, ...env });
  const secretValues = collectSecretValues(mergedEnv, Object.values(fileSecrets));

  const systems = mergeSystems(file?.systems ?? []);
  const warnings: string[] = [];
  if (defaults.system && !systems.some((system) => system.name === defaults.system)) {
    warnings.push(
      `Default system "${defaults.system}" (from ${sources.system}) is not a known system; known: ${systems
        .map((system) => system.name)
        .join(', ')}.`,
    );
  }

  const http = file?.http ?? {};
  const telemetryEnv = env.SML_TELEMETRY?.trim().toLowerCase();
  const telemetryOptOut =
    telemetryEnv && ['0', 'false', 'no', 'off'].includes(telemetryEnv)
      ? `SML_TELEMETRY=${env.SML_TELEMETRY}`
      : file?.defaults?.telemetry === false
        ? `defaults.telemetry: false in ${configPath}`
        : undefined;
  return {
    telemetryOptOut,
    configDir,
    configPath,
    hasConfigFile: file !== undefined,
    defaults,
    sources,
    systems,
    userSystemNames: (file?.systems ?? []).map((system) => system.name),
    catalogExtras: file?.catalog ?? [],
    stateDir: resolvePath(file?.stateDir ?? join(configDir, 'mcp-state'), configDir),
    http: {
      host: http.host ?? '127.0.0.1',
      port: http.port ?? DEFAULT_HTTP_PORT,
      allowedHosts: http.allowedHosts ?? [],
      allowedOrigins: http.allowedOrigins ?? [],
      sessionIdleSeconds: http.sessionIdleSeconds ?? 1800,
      maxBodyBytes: http.maxBodyBytes ?? 1024 * 1024,
      maxSessions: http.maxSessions ?? DEFAULT_MAX_HTTP_SESSIONS,
      localPathRoots: (http.localPathRoots ?? []).map((root) => resolvePath(root, configDir)),
    },
    isClusterConfigured: defaults.system !== undefined,
    warnings,
    redact: createRedactor(secretValues),
    credentialEnv: () => mergedEnv,
  };
}

function resolvePath(path: string, base: string): string {
  return isAbsolute(path) ? path : resolve(base, path);
}

function resolveSecretsPath(env: Env, configDir: string, file: ConfigFile | undefined): string | undefined {
  const explicit = env.SML_SECRETS_FILE ?? file?.secretsFile;
  if (explicit) return resolvePath(explicit, configDir);
  const implicit = join(configDir, SECRETS_FILE_NAME);
  return existsSync(implicit) ? implicit : undefined;
}

/** Text for people and agents: where the configuration comes from and what is missing. */
export function describeConfig(config: ResolvedConfig): string {
  const lines = [
    `Config file: ${config.configPath}${config.hasConfigFile ? '' : ' (not present; built-in defaults in use)'}`,
  ];
  for (const key of Object.keys(ENV_NAMES) as DefaultKey[]) {
    const value = config.defaults[key];
    lines.push(
      `${key}: ${value === undefined ? `not set (${ENV_NAMES[key]})` : `${value} (from ${config.sources[key]})`}`,
    );
  }
  if (!config.isClusterConfigured) {
    lines.push(
      'No system configured: sizing, the catalog and dry runs work; to launch, set SML_SYSTEM (e.g. clariden or local) or "defaults.system" in the config file.',
    );
  }
  lines.push(...config.warnings);
  return lines.join('\n');
}
