import { metricsUri } from '../resources/uris.js';
import { completeModel, definePrompt } from './define-prompt.js';

const MODEL_DESCRIPTION = 'Catalog model id or a model path to size';
const SYSTEM_DESCRIPTION = 'System to size for (default: the configured one)';
const LOAD_DESCRIPTION = 'Expected load, e.g. "200 concurrent users, 8k-token prompts" (optional)';
const JOB_DESCRIPTION = 'A running job of this model whose metrics should inform the advice (optional)';

export const rightSizePrompt = definePrompt({
  name: 'right_size',
  title: 'Right-size a deployment',
  description:
    'Work out how many GPUs, nodes and replicas a model needs on a system for an expected load, optionally from the metrics of a running deployment.',
  arguments: [
    { name: 'model', description: MODEL_DESCRIPTION, isRequired: true, complete: completeModel },
    { name: 'system', description: SYSTEM_DESCRIPTION, isRequired: false },
    { name: 'load', description: LOAD_DESCRIPTION, isRequired: false },
    { name: 'job_id', description: JOB_DESCRIPTION, isRequired: false },
  ],
  build({ model, system, load, job_id: jobId }, deps) {
    const where = system ?? deps.config.defaults.system;
    const lines = [
      `Right-size a deployment of ${model}${where ? ` on ${where}` : ''}${load ? ` for this load: ${load}` : ''}.`,
      '',
      `1. Call size_model for ${model}${where ? ` on system ${where}` : ''} (with the context length the load needs). It returns the memory the weights and KV cache take, the smallest tensor/pipeline layout that fits, and the GPUs and nodes per replica.`,
      '2. Call list_systems for the GPUs per node and the per-job time cap, and the partitions and reservations available.',
      '3. One replica serves a limited number of concurrent sequences (bounded by its KV cache); add replicas for more concurrency rather than more GPUs per replica, and prefer replicas that fit in one node.',
      jobId
        ? `4. Read ${metricsUri(jobId)} for the running job ${jobId}: requests queued > 0 for long or KV-cache usage near 1.0 means more replicas; low usage means fewer. Compare time-to-first-token p90 with what the user needs.`
        : '4. If a deployment of this model is already running, read its sml://jobs/{id}/metrics resource to base the advice on real load.',
      '5. Answer with a concrete launch: replicas, nodes_per_replica, the parallel layout, and the expected GPU count; offer to run it with launch (dry_run first if the user wants to review).',
    ];
    return {
      description: `Right-size ${model}`,
      messages: [{ role: 'user', content: { type: 'text', text: lines.join('\n') } }],
    };
  },
});
