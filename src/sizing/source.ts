import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { signalWithTimeout } from '../abort.js';
import { assetPath } from '../assets.js';
import {
  ANY_LOCAL_FILE,
  isLocalPathAllowed,
  type LocalFilePolicy,
  localPathRefused,
} from '../config/local-files.js';
import type { Framework } from '../domain/framework.js';
import { SmlError } from '../errors.js';
import { loadUndici } from '../libraries.js';
import type { Scheduler } from '../scheduler/scheduler.js';

/**
 * Where a model's config.json comes from: a local file or directory, the cluster's model registry
 * (read through the Scheduler, so it works over SSH and FirecREST alike), or the Hugging Face Hub.
 */

export const DEFAULT_HUB_URL = 'https://huggingface.co';
/** The Hub answers in well under a second; 5 s tells an offline machine from a slow link. */
export const DEFAULT_HUB_TIMEOUT_MS = 5000;
/** config.json and index files are kilobytes to a few MiB; anything larger is not one. */
const MAX_FILE_BYTES = 32 * 1024 * 1024;
const INDEX_FILE = 'model.safetensors.index.json';

export interface CatalogModelRef {
  /** The catalog id (also its Hugging Face id). */
  id: string;
  framework?: Framework;
  /** Absolute directory of the weights on the cluster (`<registry>/<vendor>/<model>` or the entry's model_path). */
  registryPath?: string;
  /** The catalog entry's framework args, as written there. */
  frameworkArgs?: string;
  nodesPerReplica?: number;
}

export interface HubOptions {
  /** Base URL of the Hub (or a mirror); default `HF_ENDPOINT` or https://huggingface.co. */
  baseUrl?: string;
  timeoutMs?: number;
  /** Read token for gated models; default `HF_TOKEN`. Sent only to the Hub, never logged. */
  token?: string;
}

export interface ModelSourceDeps {
  /** Read a local text file (default: node:fs). */
  readLocalFile?: (path: string) => Promise<string>;
  /** The cluster seam, to read configs from the model registry. */
  scheduler?: Scheduler;
  /** Root of the cluster's model registry (`<registry>/<vendor>/<model>`), read through `scheduler`. */
  registryPath?: string;
  /** A catalog id → its entry's facts, or undefined when the id is not in the catalog. */
  resolveCatalogModel?: (id: string) => CatalogModelRef | undefined;
  /** Hub access; false disables it. */
  hub?: HubOptions | false;
  /** Which files of this machine `model` may name (default: any, for the local user). */
  localFiles?: LocalFilePolicy;
  signal?: AbortSignal;
}

export interface ModelFiles {
  config: unknown;
  /** `metadata.total_size` of model.safetensors.index.json: the exact bytes of the weights. */
  indexTotalBytes?: number;
  /** catalog: the sourced facts shipped for a catalog model (assets/model-configs). */
  origin: 'local' | 'registry' | 'catalog' | 'hub';
  /** The path or URL of the config.json read. */
  location: string;
  /** The catalog entry when the model is a catalog id. */
  catalog?: CatalogModelRef;
}

const HF_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

async function localKind(path: string): Promise<'file' | 'dir' | 'other' | undefined> {
  try {
    const info = await stat(path);
    return info.isDirectory() ? 'dir' : info.isFile() ? 'file' : 'other';
  } catch {
    return undefined;
  }
}

function looksLikePath(model: string): boolean {
  return /^(\/|\.\.?\/|~(\/|$))/.test(model) || model.endsWith('.json') || model.includes('\\');
}

/** JSON.parse, whose errors quote the text: only the position is passed on, never file content. */
function parseJson(text: string, location: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    throw new SmlError(
      'INVALID_ARGUMENT',
      `${location} is not valid JSON${position ? ` (error at character ${position})` : ''}.`,
      { hint: 'Point model at an unmodified Hugging Face config.json.' },
    );
  }
}

function indexTotalBytes(index: unknown): number | undefined {
  const total = (index as { metadata?: { total_size?: unknown } } | null)?.metadata?.total_size;
  const bytes = typeof total === 'string' ? Number(total) : total;
  return typeof bytes === 'number' && Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}

/** A local config file, only when it is what it claims: a regular *.json file of sane size. */
async function readLocalConfig(path: string, deps: ModelSourceDeps): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) {
    throw new SmlError('NOT_FOUND', `No config.json at ${path}.`, {
      hint: 'A Hugging Face model directory holds config.json next to its *.safetensors files.',
    });
  }
  if (info.size > MAX_FILE_BYTES) {
    throw new SmlError('INVALID_ARGUMENT', `${path} is ${info.size} bytes: too large for a config file.`, {
      hint: 'Point model at a Hugging Face config.json (kilobytes), or the directory holding it.',
    });
  }
  const read = deps.readLocalFile ?? ((p: string) => readFile(p, 'utf8'));
  try {
    return await read(path);
  } catch {
    throw new SmlError('NOT_FOUND', `${path} cannot be read.`, {
      hint: 'Check that the file is readable by the user running sml-mcp.',
    });
  }
}

async function loadLocal(model: string, deps: ModelSourceDeps): Promise<ModelFiles> {
  const path = resolve(expandHome(model));
  if (!isLocalPathAllowed(path, deps.localFiles ?? ANY_LOCAL_FILE)) {
    throw localPathRefused('model', model, 'a catalog id or a Hugging Face id (vendor/name)');
  }
  const kind = await localKind(path);
  if (!kind) {
    throw new SmlError('NOT_FOUND', `No file or directory at ${path} (from model '${model}').`, {
      hint: 'Give a directory holding config.json, the path of a config.json, a catalog id or a Hugging Face id.',
    });
  }
  if (kind !== 'dir' && !path.endsWith('.json')) {
    throw new SmlError('INVALID_ARGUMENT', `model '${model}' is neither a directory nor a .json file.`, {
      hint: 'Give the directory of a Hugging Face model (holding config.json) or the path of its config.json.',
    });
  }
  const configPath = kind === 'dir' ? join(path, 'config.json') : path;
  const config = parseJson(await readLocalConfig(configPath, deps), configPath);
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new SmlError('INVALID_ARGUMENT', `${configPath} is not a Hugging Face config (a JSON object).`, {
      hint: 'Point model at an unmodified Hugging Face config.json.',
    });
  }
  const indexPath = join(kind === 'dir' ? path : dirname(configPath), INDEX_FILE);
  let total: number | undefined;
  if (kind === 'dir' || basename(configPath) === 'config.json') {
    try {
      total = indexTotalBytes(parseJson(await readLocalConfig(indexPath, deps), indexPath));
    } catch {
      total = undefined;
    }
  }
  return { config, indexTotalBytes: total, origin: 'local', location: configPath };
}

/** A whole (small) file through the Scheduler, or undefined when it does not exist. */
async function readRemote(
  scheduler: Scheduler,
  path: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const size = await scheduler.fileSize(path, { signal });
  if (size === undefined) return undefined;
  if (size > MAX_FILE_BYTES) {
    throw new SmlError('INVALID_ARGUMENT', `${path} is ${size} bytes: too large for a config file.`);
  }
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset < size) {
    const chunk = await scheduler.readFile(path, offset, size - offset, { signal });
    if (chunk.data.length === 0) break;
    chunks.push(chunk.data);
    offset += chunk.data.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function loadFromRegistry(
  dir: string,
  deps: ModelSourceDeps & { scheduler: Scheduler },
): Promise<ModelFiles | undefined> {
  const configPath = `${dir.replace(/\/+$/, '')}/config.json`;
  const text = await readRemote(deps.scheduler, configPath, deps.signal);
  if (text === undefined) return undefined;
  const indexPath = `${dir.replace(/\/+$/, '')}/${INDEX_FILE}`;
  let total: number | undefined;
  try {
    const index = await readRemote(deps.scheduler, indexPath, deps.signal);
    total = index === undefined ? undefined : indexTotalBytes(parseJson(index, indexPath));
  } catch {
    total = undefined;
  }
  return {
    config: parseJson(text, configPath),
    indexTotalBytes: total,
    origin: 'registry',
    location: configPath,
  };
}

function offlineError(id: string, reason: string, deps: ModelSourceDeps, cause?: unknown): SmlError {
  const registryHint = deps.registryPath
    ? ` or a model in the cluster registry (${deps.registryPath}/<vendor>/<model>) with a system sml-mcp can reach`
    : ' or a catalog model on a system whose registry sml-mcp can read';
  return new SmlError('OFFLINE', `Cannot read the config of '${id}' from the Hugging Face Hub: ${reason}.`, {
    hint: `Pass a local directory holding its config.json (model: "/path/to/${id.split('/').at(-1)}")${registryHint}.`,
    details: { model: id },
    cause,
  });
}

async function fetchHubFile(
  id: string,
  file: string,
  hub: HubOptions,
  deps: ModelSourceDeps,
): Promise<{ status: number; text?: string; url: string }> {
  const base = (hub.baseUrl ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
  const url = `${base}/${id}/resolve/main/${file}`;
  const signal = signalWithTimeout(hub.timeoutMs ?? DEFAULT_HUB_TIMEOUT_MS, deps.signal);
  const token = hub.token ?? process.env.HF_TOKEN;
  const { fetch } = await loadUndici();
  const response = await fetch(url, {
    signal,
    headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    return { status: response.status, url };
  }
  return { status: response.status, text: await readBounded(response.body, url), url };
}

/** A response body as text, refusing one larger than any config (a mirror could send gigabytes). */
async function readBounded(body: ReadableStream<Uint8Array> | null, url: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body ?? []) {
    total += chunk.length;
    if (total > MAX_FILE_BYTES) {
      await body?.cancel().catch(() => undefined);
      throw new SmlError(
        'INVALID_ARGUMENT',
        `${url} answered more than ${MAX_FILE_BYTES} bytes: too large for a config file.`,
        {
          hint: 'Check HF_ENDPOINT (the Hub or a mirror), or pass a local directory holding config.json.',
        },
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function loadFromHub(id: string, hub: HubOptions, deps: ModelSourceDeps): Promise<ModelFiles> {
  let config: { status: number; text?: string; url: string };
  try {
    config = await fetchHubFile(id, 'config.json', hub, deps);
  } catch (error) {
    if (deps.signal?.aborted || error instanceof SmlError) throw error;
    const name = (error as Error).name;
    const reason =
      name === 'TimeoutError' || name === 'AbortError'
        ? `no answer within ${hub.timeoutMs ?? DEFAULT_HUB_TIMEOUT_MS} ms`
        : `${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`;
    throw offlineError(id, reason, deps, error);
  }
  if (config.status === 404) {
    throw new SmlError('UNKNOWN_MODEL', `The Hugging Face Hub has no config.json for '${id}'.`, {
      hint: 'Check the model id (vendor/name, case-sensitive), or pass a local directory holding config.json.',
      details: { model: id },
    });
  }
  if (config.status === 401 || config.status === 403) {
    throw new SmlError(
      'PERMISSION_DENIED',
      `The Hugging Face Hub refused to serve the config of '${id}' (HTTP ${config.status}).`,
      {
        hint: 'The model is gated or private: accept its licence on the Hub and set HF_TOKEN, or pass a local directory holding config.json.',
        details: { model: id },
      },
    );
  }
  if (config.text === undefined) {
    throw offlineError(id, `HTTP ${config.status}`, deps);
  }
  let total: number | undefined;
  try {
    const index = await fetchHubFile(id, INDEX_FILE, hub, deps);
    total = index.text === undefined ? undefined : indexTotalBytes(parseJson(index.text, index.url));
  } catch {
    total = undefined;
  }
  return {
    config: parseJson(config.text, config.url),
    indexTotalBytes: total,
    origin: 'hub',
    location: config.url,
  };
}

/**
 * Find and read a model's config.json (and its safetensors index when there is one). MODEL is the path
 * of a config.json, a directory holding one, a catalog id, or a Hugging Face id. Catalog and Hugging
 * Face ids are read from the cluster registry when a Scheduler is given and the model is there, else
 * from the Hub.
 */
/** Where the sourced config.json of each catalog model is shipped: `<vendor>__<model>/config.json`. */
export const MODEL_CONFIGS_DIR = assetPath('model-configs');

/** The config reconstructed from the sourced facts of a catalog model, when the package ships one. */
function shippedModelFiles(id: string): ModelFiles | undefined {
  const location = join(MODEL_CONFIGS_DIR, id.replace('/', '__'), 'config.json');
  if (!existsSync(location)) return undefined;
  return { config: JSON.parse(readFileSync(location, 'utf8')), origin: 'catalog', location };
}

export async function loadModelFiles(model: string, deps: ModelSourceDeps = {}): Promise<ModelFiles> {
  const trimmed = model.trim();
  if (trimmed.length === 0) {
    throw new SmlError('INVALID_ARGUMENT', 'model is empty.', {
      hint: 'Give a catalog id, a Hugging Face id (vendor/name), a directory holding config.json, or its path.',
    });
  }
  const path = resolve(expandHome(trimmed));
  const mayBeLocal = isLocalPathAllowed(path, deps.localFiles ?? ANY_LOCAL_FILE);
  if (looksLikePath(trimmed) || (mayBeLocal && (await localKind(path)) !== undefined)) {
    return loadLocal(trimmed, deps);
  }
  if (!HF_ID.test(trimmed)) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `model '${trimmed}' is neither a path nor a vendor/name model id.`,
      {
        hint: 'Give a catalog id (list_models), a Hugging Face id such as Qwen/Qwen3-8B, or a directory holding config.json.',
      },
    );
  }
  const catalog = deps.resolveCatalogModel?.(trimmed);
  const registryDir =
    catalog?.registryPath ??
    (deps.registryPath ? `${deps.registryPath.replace(/\/+$/, '')}/${trimmed}` : undefined);
  // The checkpoint's own files first; then the facts shipped for a catalog model (no cluster or Hub
  // needed); the Hub last, for models outside the catalog.
  const shipped = catalog ? shippedModelFiles(catalog.id) : undefined;
  if (deps.scheduler && registryDir) {
    try {
      const found = await loadFromRegistry(registryDir, { ...deps, scheduler: deps.scheduler });
      if (found) return { ...found, catalog };
    } catch (error) {
      if (!shipped || deps.signal?.aborted) throw error;
    }
  }
  if (shipped) return { ...shipped, catalog };
  if (deps.hub === false) {
    throw new SmlError(
      'NOT_FOUND',
      `No config.json for '${trimmed}' in the model registry, and the Hub is disabled.`,
      {
        hint: 'Pass a local directory holding config.json.',
      },
    );
  }
  const files = await loadFromHub(trimmed, deps.hub ?? {}, deps);
  return { ...files, catalog };
}
