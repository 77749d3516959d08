import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { assetPath } from '../assets.js';
import { SmlError } from '../errors.js';

/**
 * Environment files in the CSCS container engine's EDF format (TOML): the container image, its
 * mounts and working directory, an `[env]` table and `[annotations]`. The same file drives every
 * container runtime: edf reads it itself; pyxis and apptainer get image/mounts/workdir as flags;
 * every runtime but edf exports the `[env]` table in the rank scripts.
 */

export interface EnvironmentFile {
  /** Image path or registry reference; may contain `{arch}` (arm64/amd64), resolved in the job. */
  image?: string;
  /** `src:dst[:flags]` or `path` (same path inside). */
  mounts: string[];
  workdir?: string;
  env: Record<string, string>;
  /** Flattened dotted keys, e.g. `com.hooks.cxi.enabled`. */
  annotations: Record<string, string>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EDF_KEYS = ['image', 'mounts', 'workdir', 'env', 'annotations', 'base_environment', 'entrypoint'];
/** Environment files are a few hundred bytes; anything much larger is not one. */
export const MAX_ENVIRONMENT_BYTES = 1024 * 1024;

function scalarToString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return undefined;
}

function flatten(table: unknown, prefix: string, into: Record<string, string>, source: string): void {
  if (!table || typeof table !== 'object' || Array.isArray(table)) return;
  for (const [key, value] of Object.entries(table)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (key === '__proto__') throw unsupportedKey(source, `annotation '${name}'`);
    const text = scalarToString(value);
    if (text !== undefined) into[name] = text;
    else if (value && typeof value === 'object' && !Array.isArray(value)) flatten(value, name, into, source);
    else
      throw new SmlError(
        'INVALID_ARGUMENT',
        `Environment file ${source}: annotation '${name}' must be a string.`,
      );
  }
}

// Objects cannot hold a key named __proto__ as data: it would be dropped silently, so it is refused.
function unsupportedKey(source: string, what: string): SmlError {
  return new SmlError('INVALID_ARGUMENT', `Environment file ${source}: ${what} is not supported.`, {
    hint: 'Rename it.',
  });
}

/** Parse an EDF environment TOML; `source` names the file in errors. */
export function parseEnvironmentToml(text: string, source: string): EnvironmentFile {
  let data: Record<string, unknown>;
  try {
    data = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    // The parser quotes the offending lines; only the position is passed on, never file content.
    const { line, column } = error as { line?: number; column?: number };
    const where =
      line === undefined ? '' : ` (line ${line}${column === undefined ? '' : `, column ${column}`})`;
    throw new SmlError('INVALID_ARGUMENT', `Environment file ${source} is not valid TOML${where}.`, {
      hint: 'Fix the file (EDF format: image, mounts, workdir, [env], [annotations]).',
      cause: error,
    });
  }
  const fail = (what: string): SmlError =>
    new SmlError('INVALID_ARGUMENT', `Environment file ${source}: ${what}.`, {
      hint: 'EDF format: image = "...", mounts = ["src:dst", ...], workdir = "...", [env] KEY = "value".',
    });
  if (!EDF_KEYS.some((key) => data[key] !== undefined)) {
    throw fail(`it has none of the keys of an environment file (${EDF_KEYS.join(', ')})`);
  }
  const result: EnvironmentFile = { mounts: [], env: {}, annotations: {} };
  if (data.image !== undefined) {
    if (typeof data.image !== 'string' || data.image === '') throw fail('image must be a non-empty string');
    result.image = data.image;
  }
  if (data.mounts !== undefined) {
    if (!Array.isArray(data.mounts) || data.mounts.some((m) => typeof m !== 'string' || m === ''))
      throw fail('mounts must be a list of non-empty strings');
    result.mounts = data.mounts as string[];
  }
  if (data.workdir !== undefined) {
    if (typeof data.workdir !== 'string' || data.workdir === '')
      throw fail('workdir must be a non-empty string');
    result.workdir = data.workdir;
  }
  if (data.env !== undefined) {
    if (!data.env || typeof data.env !== 'object' || Array.isArray(data.env))
      throw fail('[env] must be a table');
    for (const [key, value] of Object.entries(data.env)) {
      if (!ENV_NAME.test(key)) throw fail(`[env] key '${key}' is not a valid variable name`);
      if (key === '__proto__') throw unsupportedKey(source, "[env] key '__proto__'");
      const text = scalarToString(value);
      if (text === undefined) throw fail(`[env] ${key} must be a string`);
      result.env[key] = text;
    }
  }
  flatten(data.annotations, '', result.annotations, source);
  return result;
}

export interface EnvironmentReference {
  /** True for a file shipped in assets/envs (named without a directory). */
  isShipped: boolean;
  /** Where to read it on this machine (shipped) or the path as given. */
  path: string;
}

/** The shipped environment of this name (`sglang.toml`), or undefined. */
export function shippedEnvironment(reference: string): EnvironmentReference | undefined {
  if (reference.includes('/')) return undefined;
  const shippedPath = assetPath('envs', reference);
  return existsSync(shippedPath) ? { isShipped: true, path: shippedPath } : undefined;
}

/** A shipped environment name (`sglang.toml`) or a path: absolute as is, relative against `cwd`. */
export function resolveEnvironmentReference(reference: string, cwd = process.cwd()): EnvironmentReference {
  const shipped = shippedEnvironment(reference);
  if (shipped) return shipped;
  if (!reference.includes('/') && !existsSync(resolve(cwd, reference))) throw unknownEnvironment(reference);
  return { isShipped: false, path: isAbsolute(reference) ? reference : resolve(cwd, reference) };
}

export function unknownEnvironment(reference: string): SmlError {
  return new SmlError(
    'NOT_FOUND',
    `Environment '${reference}' is neither a shipped environment nor a file.`,
    {
      hint: 'Give a shipped name (e.g. sglang.toml, vllm.toml) or a path to an EDF .toml file.',
    },
  );
}

/** Only a `.toml` path can name an environment file: anything else is refused before it is read. */
export function assertEnvironmentPath(path: string): void {
  if (path.endsWith('.toml')) return;
  throw new SmlError('INVALID_ARGUMENT', `Environment '${path}' is not a .toml file.`, {
    hint: 'Give a shipped name (e.g. sglang.toml, vllm.toml) or the path of an EDF environment file (*.toml).',
  });
}

/** Read and parse an environment file on this machine. */
export function readEnvironmentFile(path: string): EnvironmentFile {
  return parseEnvironmentToml(readEnvironmentText(path), path);
}

/** The text of an environment file on this machine: a regular `.toml` file of sane size. */
export function readEnvironmentText(path: string): string {
  assertEnvironmentPath(path);
  try {
    const info = statSync(path);
    if (!info.isFile() || info.size > MAX_ENVIRONMENT_BYTES) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `Environment file ${path} is not a regular file of at most 1 MiB.`,
        {
          hint: 'Give the path of an EDF environment file (*.toml).',
        },
      );
    }
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof SmlError) throw error;
    throw new SmlError('NOT_FOUND', `Environment file ${path} cannot be read.`, {
      hint: 'Check the path, or use a shipped environment name (e.g. sglang.toml).',
      cause: error,
    });
  }
}
