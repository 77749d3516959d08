import { z } from 'zod';
import { CatalogEntry } from '../catalog/catalog.js';
import { SystemProfile } from '../domain/system.js';

/**
 * The sml-mcp configuration file (`<config dir>/mcp.json`). Every field is optional: with no file
 * at all the server starts, sizes models, lists the catalog and renders dry runs.
 */

export const DefaultsSection = z
  .object({
    system: z
      .string()
      .min(1)
      .optional()
      .describe('System used when a launch names none (env SML_SYSTEM wins over this), e.g. clariden'),
    partition: z.string().min(1).optional().describe('SLURM partition (env SML_PARTITION wins over this)'),
    account: z
      .string()
      .min(1)
      .optional()
      .describe('SLURM account to charge (env SML_ACCOUNT wins over this)'),
    reservation: z
      .string()
      .min(1)
      .optional()
      .describe('SLURM reservation (env SML_RESERVATION wins over this)'),
    telemetry: z
      .boolean()
      .optional()
      .describe(
        "false: jobs do not post SML's launch record to the system's telemetry endpoint (env SML_TELEMETRY=0 also switches it off)",
      ),
  })
  .describe('Defaults for launches; command-line flags win over environment variables, which win over these');
export type DefaultsSection = z.infer<typeof DefaultsSection>;

export const HttpSection = z
  .object({
    host: z.string().min(1).optional().describe('Address to bind `serve --http` to; default 127.0.0.1'),
    port: z.number().int().min(0).max(65535).optional().describe('TCP port; default 8765'),
    allowedHosts: z
      .array(z.string().min(1))
      .optional()
      .describe('Host header values accepted (hostnames without port); required to bind beyond loopback'),
    allowedOrigins: z
      .array(z.string().min(1))
      .optional()
      .describe('Origin header values accepted from browsers, e.g. http://localhost:6274; others get 403'),
    sessionIdleSeconds: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Close a session after this many seconds without a request; default 1800'),
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Largest accepted request body; default 1 MiB'),
    localPathRoots: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Directories of this machine under which remote clients may name files (a model's config.json, an environment .toml); default none: they name catalog models, Hugging Face ids and cluster paths only",
      ),
    maxSessions: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'Open MCP sessions at most; a new client beyond it gets HTTP 503 with Retry-After; default 100',
      ),
  })
  .describe('Streamable HTTP transport settings (the bearer token comes only from env SML_MCP_TOKEN)');
export type HttpSection = z.infer<typeof HttpSection>;

export const ConfigFile = z
  .object({
    $schema: z.string().optional().describe('JSON Schema of this file (sml-mcp config schema)'),
    defaults: DefaultsSection.optional(),
    systems: z
      .array(SystemProfile)
      .optional()
      .describe('Your own system profiles; one with the name of a built-in system replaces it'),
    catalog: z
      .array(CatalogEntry)
      .optional()
      .describe(
        'Extra catalog entries (fields as in the shipped models.json); one with the model and framework of a shipped entry replaces it',
      ),
    secretsFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        'JSON file of secret environment values (e.g. SML_FIRECREST_CLIENT_SECRET); must be readable by you alone (chmod 600). Default <config dir>/secrets.json when it exists',
      ),
    stateDir: z
      .string()
      .min(1)
      .optional()
      .describe('Where sml-mcp records the jobs it launched; default <config dir>/mcp-state'),
    http: HttpSection.optional(),
  })
  .strict()
  .describe('sml-mcp configuration');
export type ConfigFile = z.infer<typeof ConfigFile>;

/** The JSON Schema of the configuration file, published by `sml-mcp config schema`. */
export function configJsonSchema(): Record<string, unknown> {
  // zod-to-json-schema 3.x emits an empty schema for zod 4 types, so zod's own generator is used.
  return z.toJSONSchema(ConfigFile, { io: 'input', target: 'draft-7' }) as Record<string, unknown>;
}
