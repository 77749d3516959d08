import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { SmlError } from '../errors.js';

/**
 * Secrets come only from the environment or from a file readable by the user alone. Every secret
 * value known to the process is also collected so results, logs and errors can be redacted.
 */

/** Environment variables that always hold a secret. */
export const SECRET_ENV_NAMES = [
  'SML_MCP_TOKEN',
  'SML_FIRECREST_CLIENT_SECRET',
  'SML_FIRECREST_API_KEY',
  'SML_SWISSAI_RESEARCH_API_KEY',
  'HF_TOKEN',
  'HUGGING_FACE_HUB_TOKEN',
] as const;

/** Any other SML_* variable whose name ends like this is treated as a secret too. */
const SECRET_NAME_PATTERN = /^SML_.*(SECRET|TOKEN|API_KEY|PASSWORD|PASSPHRASE)$/;

// Shorter values would redact ordinary words and digits everywhere.
const MIN_REDACTED_LENGTH = 6;

export const REDACTED = '[redacted]';

export function isSecretEnvName(name: string): boolean {
  return (SECRET_ENV_NAMES as readonly string[]).includes(name) || SECRET_NAME_PATTERN.test(name);
}

const SecretsFileContent = z.record(
  z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an environment variable name'),
  z.string(),
);

/**
 * Read a secrets file (JSON object of environment variable name → value). Refuses a file that a
 * group or others may read, or that belongs to someone else.
 */
export function readSecretsFile(path: string): Record<string, string> {
  let mode: number;
  let ownerUid: number;
  try {
    const stat = statSync(path);
    mode = stat.mode;
    ownerUid = stat.uid;
  } catch (error) {
    throw new SmlError('NOT_FOUND', `Secrets file ${path} cannot be read.`, {
      hint: 'Create it (a JSON object of variable name → value, chmod 600) or remove `secretsFile` from the config.',
      cause: error,
    });
  }
  if ((mode & 0o077) !== 0) {
    throw new SmlError(
      'PERMISSION_DENIED',
      `Secrets file ${path} is readable by others (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); expected 600.`,
      { hint: `Run \`chmod 600 ${path}\` and start sml-mcp again.` },
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && uid !== ownerUid) {
    throw new SmlError(
      'PERMISSION_DENIED',
      `Secrets file ${path} belongs to uid ${ownerUid}, not to you (${uid}).`,
      {
        hint: 'Use a secrets file you own, with mode 600.',
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    // The parse error message could quote file content, i.e. a secret; it is not passed on.
    throw new SmlError('INVALID_ARGUMENT', `Secrets file ${path} is not valid JSON.`, {
      hint: 'Write a JSON object such as {"SML_FIRECREST_CLIENT_SECRET": "…"}.',
    });
  }
  const result = SecretsFileContent.safeParse(parsed);
  if (!result.success) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `Secrets file ${path} must be a JSON object of environment variable names to string values.`,
      { hint: 'For example {"SML_FIRECREST_CLIENT_ID": "…", "SML_FIRECREST_CLIENT_SECRET": "…"}.' },
    );
  }
  return result.data;
}

/** The secret values of an environment (plus any extra values), longest first for redaction. */
export function collectSecretValues(env: Readonly<Record<string, string | undefined>>, extra: string[] = []) {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= MIN_REDACTED_LENGTH && isSecretEnvName(name)) values.add(value);
  }
  for (const value of extra) if (value.length >= MIN_REDACTED_LENGTH) values.add(value);
  return [...values].sort((a, b) => b.length - a.length);
}

export type Redactor = (text: string) => string;

/**
 * The forms a secret takes in text: as is, URL-encoded (a query or a form body such as the OAuth
 * `client_secret=`), and escaped in a JSON string. Longest first, so a form containing another is
 * replaced whole.
 */
function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_REDACTED_LENGTH) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

function replaceForms(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.replaceAll(form, REDACTED);
  return out;
}

/** A function that replaces every known secret value (in each of its forms) in a text with `[redacted]`. */
export function createRedactor(secretValues: readonly string[]): Redactor {
  const forms = secretForms(secretValues);
  if (forms.length === 0) return (text) => text;
  return (text) => replaceForms(text, forms);
}

/** Redact secrets known only now (access tokens that change): the same rules as createRedactor. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  return replaceForms(text, secretForms(secrets));
}

/** Redact every string inside a JSON-like value (objects and arrays are copied). */
export function redactDeep<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redact)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = redactDeep(item, redact);
    return out as T;
  }
  return value;
}
