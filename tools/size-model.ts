import { SizeModelInput, SizeModelResult } from '../src/sizing/schema.js';
import { defineTool } from './define-tool.js';

export const sizeModelTool = defineTool({
  name: 'size_model',
  title: 'Size a model',
  description:
    'What one replica of a model needs before anything is queued: from its config.json (catalog id, Hub id or path), weight and KV-cache memory and the smallest tp/pp/ep layout fitting a system\'s GPUs at context_length × concurrency, with engine args and alternatives. Give the layout to launch, or launch with layout "auto".',
  kind: 'read',
  // It may read config.json from the cluster's model registry or the Hugging Face Hub.
  touchesCluster: true,
  input: SizeModelInput,
  output: SizeModelResult,
  async run(args, { deps, extra }) {
    const result = await deps.sizer.size(args, { signal: extra.signal });
    const { layout } = result;
    const headline = result.fits
      ? `${args.model} on ${result.target.system ?? result.target.gpu}: one replica needs ${layout.gpus_per_replica} GPU(s) (${layout.nodes_per_replica} node(s); tp ${layout.tp}, pp ${layout.pp}, ep ${layout.ep}${layout.replicas_per_node > 1 ? `, ${layout.replicas_per_node} replicas per node` : ''}).`
      : `${args.model} does not fit within the allowed nodes on ${result.target.system ?? result.target.gpu}.`;
    const lines = [headline, result.explanation, ...result.warnings.map((w) => `Warning: ${w}`)];
    return { structured: result, text: lines.join('\n') };
  },
});
