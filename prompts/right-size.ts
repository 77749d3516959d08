import { metricsUri } from '../resources/uris.js';
import { completeModel, completeSystem, definePrompt } from './define-prompt.js';

const MODEL_DESCRIPTION = 'Catalog model id or a model path to size';
const SYSTEM_DESCRIPTION = 'System to size for (default: the configured one)';
const LOAD_DESCRIPTION = 'Expected load, e.g. "200 concurrent users, 8k-token prompts" (optional)';
const JOB_DESCRIPTION = 'A running job of this model to load-test and size from (optional)';
const TARGET_DESCRIPTION = 'Service target, e.g. "200 req/s with p99 TTFT ≤ 2 s" (optional)';

export const rightSizePrompt = definePrompt({
  name: 'right_size',
  title: 'Right-size a deployment',
  description:
    'Work out how many GPUs, nodes and replicas a model needs on a system for a target load: size it, measure a deployment with a load test, and turn the measurement into replicas with the arithmetic shown.',
  arguments: [
    { name: 'model', description: MODEL_DESCRIPTION, isRequired: true, complete: completeModel },
    { name: 'system', description: SYSTEM_DESCRIPTION, isRequired: false, complete: completeSystem },
    { name: 'load', description: LOAD_DESCRIPTION, isRequired: false },
    { name: 'job_id', description: JOB_DESCRIPTION, isRequired: false },
    { name: 'target', description: TARGET_DESCRIPTION, isRequired: false },
  ],
  build({ model, system, load, job_id: jobId, target }, deps) {
    const where = system ?? deps.config.defaults.system;
    const goal = target ?? load;
    const lines = [
      `Right-size a deployment of ${model}${where ? ` on ${where}` : ''}${goal ? ` for: ${goal}` : ''}.`,
      '',
      `1. Call size_model for ${model}${where ? ` on system ${where}` : ''} (with the context length the load needs). It returns the memory the weights and KV cache take, the smallest tensor/pipeline layout that fits, GPUs and nodes per replica, and whether replicas share nodes.`,
      '2. Call list_systems: GPUs per node, shares_nodes (true: a replica smaller than a node costs only its GPUs; false: every job takes whole nodes, so pack small replicas into one launch), the per-job time cap, partitions and reservations.',
      jobId
        ? `3. Measure job ${jobId}: call loadtest with job_id "${jobId}" (scenario sweep; prompt_tokens/max_tokens like the real traffic) and a target such as {"requests_per_s": 200, "p99_ttft_s": 2}. It returns at once; call loadtest again with run_id and wait_s until phase is completed. Read ${metricsUri(jobId)} for the engines' own view.`
        : '3. Measure: launch one replica with the layout from step 1 (or pass launch to loadtest to deploy and test in one call), then call loadtest (scenario sweep, prompt_tokens/max_tokens like the real traffic, and the target) and follow it with run_id and wait_s until completed.',
      "4. Read the result: each step's requests/s, output tokens/s and p99 time to first token; saturation is where more concurrency stopped adding throughput (the replica's limit); engine_peak shows queued requests and KV-cache use. The recommend section divides the target by one replica's measured capacity within the latency limit and shows the arithmetic: quote it.",
      '5. If no step met the latency target, more replicas will not help: use more GPUs per replica (a larger tensor-parallel size) or shorter prompts, then measure again.',
      '6. Answer with a concrete launch: replicas, gpus_per_replica or nodes_per_replica, router "sglang" when replicas > 1, the GPUs and nodes it takes, and offer to launch it (dry_run first if the user wants to review) and to load-test it at the target to confirm.',
    ];
    return {
      description: `Right-size ${model}`,
      messages: [{ role: 'user', content: { type: 'text', text: lines.join('\n') } }],
    };
  },
});
