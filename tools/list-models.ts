import { z } from 'zod';
import { toCatalogModel } from '../src/catalog/catalog.js';
import { defineTool } from './define-tool.js';

export const CatalogModelSchema = z.object({
  model: z.string().describe('Model id as <vendor>/<model>; pass it as `model` to launch'),
  framework: z.enum(['sglang', 'vllm']),
  nodes_per_replica: z.number().int().describe('Nodes one replica of this recipe spans'),
  framework_args: z
    .string()
    .describe('Engine arguments of the recipe (tensor/expert parallel sizes, parsers)'),
  environment: z.string().nullable().describe('Environment file; null = the system default'),
  pre_launch_cmds: z.string(),
  model_path: z.string().nullable().describe('Where the weights are when not <registry>/<model>'),
});

const input = z.object({
  search: z
    .string()
    .max(200)
    .optional()
    .describe('Case-insensitive part of the model id, e.g. "qwen", "apertus", "70b"'),
  framework: z.enum(['sglang', 'vllm']).optional().describe('Only recipes for this engine'),
  max_nodes_per_replica: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Only models whose replica fits on this many nodes (each node has 4 GPUs on the CSCS systems)'),
});

const output = z.object({
  models: z.array(CatalogModelSchema),
  total: z.number().int().describe('Entries in the whole catalog'),
});

export const listModelsTool = defineTool({
  name: 'list_models',
  title: 'List catalog models',
  description:
    'List the model catalog: recipes known to work (model id, sglang or vllm, nodes per replica, engine arguments). Launch one by passing its `model` (and `framework` when a model has two recipes) to launch. Models that are not in the catalog can still be launched with launch by giving model_path, framework and served_model_name.',
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
