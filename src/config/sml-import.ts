import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SmlError } from '../errors.js';

/**
 * Reads an SML configuration (`~/.sml/config.yml`): the dump of SML's init wizard tree, where
 * every answered node has a `name` and a `value` somewhere under `chain`/`branches`. Secrets SML
 * kept in the OS keyring are stored as `__keyring__`: they are reported as such, never guessed.
 */

export const KEYRING_MARKER = '__keyring__';

/** The values sml-mcp takes over from SML, by SML's node name. */
export interface SmlConfigValues {
  launcher?: string;
  firecrest_url?: string;
  firecrest_token_uri?: string;
  cluster_ssh_host?: string;
  /** Secrets found in the file itself (old or keyring-less setups). */
  secrets: Partial<Record<SmlSecretName, string>>;
  /** Secrets SML kept in the keyring: they must be given again. */
  inKeyring: SmlSecretName[];
}

export type SmlSecretName = 'firecrest_client_id' | 'firecrest_client_secret' | 'swissai_research_api_key';

const SECRET_NAMES: readonly SmlSecretName[] = [
  'firecrest_client_id',
  'firecrest_client_secret',
  'swissai_research_api_key',
];
const PLAIN_NAMES = ['launcher', 'firecrest_url', 'firecrest_token_uri', 'cluster_ssh_host'] as const;

/** Every `{name, value}` node of the tree, depth first (the first answered one of a name wins). */
function collectValues(node: unknown, into: Map<string, unknown>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectValues(item, into);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (typeof record.name === 'string' && 'value' in record && record.value !== null && record.value !== '') {
    // SML renamed cscs_api_key to swissai_research_api_key (its config migration).
    const name = record.name === 'cscs_api_key' ? 'swissai_research_api_key' : record.name;
    if (!into.has(name)) into.set(name, record.value);
  }
  for (const value of Object.values(record)) collectValues(value, into);
}

export function parseSmlConfig(text: string, source: string): SmlConfigValues {
  let tree: unknown;
  try {
    tree = parseYaml(text);
  } catch (error) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `${source} is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
      {
        hint: 'Give the config.yml that `sml init` wrote, or run sml-mcp init without --import-sml.',
        cause: error,
      },
    );
  }
  const values = new Map<string, unknown>();
  collectValues(tree, values);
  const result: SmlConfigValues = { secrets: {}, inKeyring: [] };
  for (const name of PLAIN_NAMES) {
    const value = values.get(name);
    if (typeof value === 'string') result[name] = value;
  }
  for (const name of SECRET_NAMES) {
    const value = values.get(name);
    if (value === KEYRING_MARKER) result.inKeyring.push(name);
    else if (typeof value === 'string') result.secrets[name] = value;
  }
  if (result.launcher === undefined && values.size === 0) {
    throw new SmlError('INVALID_ARGUMENT', `${source} holds no SML settings.`, {
      hint: 'Give the config.yml that `sml init` wrote (its wizard tree), or run sml-mcp init without --import-sml.',
    });
  }
  return result;
}

export function readSmlConfig(path: string): SmlConfigValues {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SmlError('NOT_FOUND', `SML config ${path} cannot be read.`, {
      hint: "Give the path of SML's config.yml (default ~/.sml/config.yml), or run sml-mcp init without --import-sml.",
      cause: error,
    });
  }
  return parseSmlConfig(text, path);
}
