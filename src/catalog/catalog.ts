import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { assetPath } from '../assets.js';
import { Framework } from '../domain/framework.js';
import { SmlError } from '../errors.js';

/**
 * The model catalog: recipes that are known to work (model, framework, environment, topology,
 * framework args). The shipped one is `assets/models.json`; extra catalogs (from config) are
 * passed as data to `createCatalog`. Unknown keys are an error, not silently ignored.
 */

export const CatalogEntry = z.strictObject({
  model: z.string().min(1).describe('Model id as <vendor>/<model>, e.g. swiss-ai/Apertus-8B-Instruct-2509'),
  framework: Framework,
  environment: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe('A shipped environment file name (assets/envs) or an absolute path; null = the system default'),
  nodes_per_replica: z.number().int().positive().default(1),
  framework_args: z.string().default(''),
  pre_launch_cmds: z.string().default(''),
  model_path: z.string().min(1).optional().describe('Where the weights are, when not <registry>/<model>'),
  _include_in_lightweight_ci: z.boolean().optional(),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

const KNOWN_KEYS = new Set(Object.keys(CatalogEntry.shape));

export interface CatalogFilter {
  framework?: Framework;
  /** Case-insensitive substring of the model id. */
  search?: string;
  maxNodesPerReplica?: number;
}

export interface Catalog {
  readonly source: string;
  readonly entries: readonly CatalogEntry[];
  /** The entry for a model id (and framework when the model has several); throws UNKNOWN_MODEL. */
  find(model: string, framework?: Framework): CatalogEntry;
  filter(filter?: CatalogFilter): CatalogEntry[];
  models(): string[];
}

function describeEntry(raw: unknown, index: number): string {
  const model = raw && typeof raw === 'object' ? (raw as { model?: unknown }).model : undefined;
  return typeof model === 'string' ? `entry ${index} (${model})` : `entry ${index}`;
}

function parseEntry(raw: unknown, index: number, source: string): CatalogEntry {
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const key of Object.keys(raw)) {
      if (!KNOWN_KEYS.has(key)) {
        throw new SmlError(
          'INVALID_ARGUMENT',
          `Catalog ${source}: ${describeEntry(raw, index)} has an unknown key '${key}'.`,
          { hint: `Known keys: ${[...KNOWN_KEYS].join(', ')}.`, details: { source, index, key } },
        );
      }
    }
  }
  const parsed = CatalogEntry.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `field '${issue.path.join('.')}'` : 'the entry';
    throw new SmlError(
      'INVALID_ARGUMENT',
      `Catalog ${source}: ${describeEntry(raw, index)}: ${where} is invalid (${issue.message}).`,
      { hint: 'Fix the catalog entry; see list_models for valid entries.', details: { source, index } },
    );
  }
  return parsed.data;
}

/** A catalog from entries given as data (the shipped file, or a user catalog from config). */
export function createCatalog(rawEntries: unknown, source: string): Catalog {
  if (!Array.isArray(rawEntries)) {
    throw new SmlError('INVALID_ARGUMENT', `Catalog ${source} must be a JSON array of entries.`);
  }
  const entries = rawEntries.map((raw, index) => parseEntry(raw, index, source));
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = `${entry.model}\u0000${entry.framework}`;
    if (seen.has(key)) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `Catalog ${source} lists ${entry.model} with ${entry.framework} twice.`,
        { hint: 'Keep one entry per model and framework.' },
      );
    }
    seen.add(key);
  }
  return {
    source,
    entries,
    find(model, framework) {
      const matches = entries.filter((e) => e.model === model);
      if (matches.length === 0) {
        const needle = model.toLowerCase().split('/').at(-1) ?? '';
        const similar = entries
          .map((e) => e.model)
          .filter((m) => needle && m.toLowerCase().includes(needle.slice(0, 6)))
          .slice(0, 5);
        throw new SmlError('UNKNOWN_MODEL', `Model '${model}' is not in the catalog.`, {
          hint: similar.length
            ? `Did you mean ${similar.join(', ')}? list_models shows them all; or launch by model_path with a served_model_name.`
            : 'list_models shows the catalog; or launch by model_path with a served_model_name.',
        });
      }
      if (framework === undefined) {
        if (matches.length > 1) {
          throw new SmlError(
            'INVALID_ARGUMENT',
            `Model '${model}' is in the catalog for ${matches.map((e) => e.framework).join(' and ')}.`,
            { hint: 'Choose one with framework.' },
          );
        }
        return matches[0]!;
      }
      const match = matches.find((e) => e.framework === framework);
      if (!match) {
        throw new SmlError(
          'UNKNOWN_MODEL',
          `Model '${model}' is in the catalog for ${matches.map((e) => e.framework).join(' and ')}, not ${framework}.`,
          {
            hint: `Use framework ${matches[0]!.framework}, or launch by model_path with framework ${framework}.`,
          },
        );
      }
      return match;
    },
    filter(filter = {}) {
      const search = filter.search?.toLowerCase();
      return entries.filter(
        (e) =>
          (filter.framework === undefined || e.framework === filter.framework) &&
          (search === undefined || e.model.toLowerCase().includes(search)) &&
          (filter.maxNodesPerReplica === undefined || e.nodes_per_replica <= filter.maxNodesPerReplica),
      );
    },
    models() {
      return [...new Set(entries.map((e) => e.model))];
    },
  };
}

let shipped: Catalog | undefined;

/** The catalog shipped in the package (`assets/models.json`), parsed once. */
export function loadShippedCatalog(): Catalog {
  if (!shipped) {
    const path = assetPath('models.json');
    shipped = createCatalog(JSON.parse(readFileSync(path, 'utf8')), 'models.json');
  }
  return shipped;
}

/** A catalog entry as list_models and sml://catalog show it (internal flags left out). */
export function toCatalogModel(entry: CatalogEntry) {
  return {
    model: entry.model,
    framework: entry.framework,
    nodes_per_replica: entry.nodes_per_replica,
    framework_args: entry.framework_args,
    environment: entry.environment,
    pre_launch_cmds: entry.pre_launch_cmds,
    model_path: entry.model_path ?? null,
  };
}
