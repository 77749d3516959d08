import { z } from 'zod';
import { toCatalogModel } from '../src/catalog/catalog.js';
import { Framework } from '../src/domain/framework.js';
import { defineTool } from './define-tool.js';

export const CatalogModelSchema = z.object({
  model: z.string().describe('Pass as `model` to launch'),
  framework: Framework,
  nodes_per_replica: z.number().int(),
  framework_args: z.string(),
  environment: z.string().nullable().describe('null: the system default'),
  pre_launch_cmds: z.string(),
  model_path: z.string().nullable().describe('null: <registry>/<model>'),
});

const input = z.strictObject({
  search: z.string().max(200).optional().describe('Part of the model id, any case, e.g. "qwen", "70b"'),
  framework: Framework.optional().describe('Only this engine'),
  max_nodes_per_replica: z.number().int().min(1).optional().describe('Only replicas within this many nodes'),
});

const output = z.object({
  models: z.array(CatalogModelSchema),
  total: z.number().int().describe('Size of the whole catalog'),
});

export const listModelsTool = defineTool({
  name: 'list_models',
  title: 'List catalog models',
  description:
    'Catalog of recipes known to work (model id, engine, nodes per replica, engine args). Launch one by `model` (and `framework` if it has two); other models launch with model_path, framework, served_model_name.',
  kind: 'read',
  touchesCluster: false,
  input,
  output,
  async run(args, { deps }) {
    const entries = deps.catalog.filter({
      search: args.search,
      framework: args.framework,
      maxNodesPerReplica: args.max_nodes_per_replica,
    });
    const models = entries.map(toCatalogModel);
    const lines = models.map(
      (m) =>
        `${m.model} (${m.framework}, ${m.nodes_per_replica} node${m.nodes_per_replica > 1 ? 's' : ''}/replica)`,
    );
    const text =
      models.length === 0
        ? `No catalog model matches. ${deps.catalog.entries.length} models in the catalog; call list_models without filters to see them.`
        : `${models.length} of ${deps.catalog.entries.length} catalog models:\n${lines.join('\n')}`;
    return { structured: { models, total: deps.catalog.entries.length }, text };
  },
});
