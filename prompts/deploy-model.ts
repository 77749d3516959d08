import { completeModel, completeSystem, definePrompt } from './define-prompt.js';

const MODEL_DESCRIPTION =
  'Catalog model id (e.g. swiss-ai/Apertus-8B-Instruct-2509) or a path to weights on the cluster';
const SYSTEM_DESCRIPTION = 'System to deploy on (default: the configured one)';
const TIME_DESCRIPTION = 'How long it should serve, e.g. 02:00:00 or 1-12:00:00 (default 02:00:00)';

export const deployModelPrompt = definePrompt({
  name: 'deploy_model',
  title: 'Deploy a model',
  description:
    'Size, launch and wait for a model deployment, then hand over its OpenAI-compatible endpoint and served model name.',
  arguments: [
    { name: 'model', description: MODEL_DESCRIPTION, isRequired: true, complete: completeModel },
    { name: 'system', description: SYSTEM_DESCRIPTION, isRequired: false, complete: completeSystem },
    { name: 'time', description: TIME_DESCRIPTION, isRequired: false },
  ],
  build({ model, system, time }, deps) {
    const recipes = deps.catalog.entries.filter((entry) => entry.model === model);
    const where = system ?? deps.config.defaults.system;
    const recipeText =
      recipes.length > 0
        ? `It is in the catalog: ${recipes.map((r) => `${r.framework}, ${r.nodes_per_replica} node(s) per replica, args "${r.framework_args}"`).join('; ')}.`
        : 'It is not in the catalog: launch it by model_path with a framework (sglang or vllm) and a served_model_name, and let layout "auto" pick the GPUs.';
    const systemText = where
      ? `Deploy on system ${where}.`
      : 'No default system is configured: call list_systems and ask the user which system to use.';
    const steps = [
      `Deploy the model ${model} for the user. ${recipeText} ${systemText}`,
      '',
      '1. Call size_model for the model (and the system) to see how many GPUs and nodes one replica needs and which tensor/pipeline layout fits; tell the user in one line.',
      `2. Call launch with the model${where ? ` and system ${where}` : ''}${time ? `, time ${time}` : ''}. When unsure about a setting, call launch with dry_run: true first and check the rendered scripts. Always pass an idempotency_key so a retried call never submits twice.`,
      '3. launch returns at once with job_ids and the served_model_name. Call status with wait_until "serving" and timeout_s 50, repeating while wait.timed_out is true (loading a large model can take 10-30 minutes). Report progress briefly.',
      '4. If a job ends or a failure_hint appears, stop waiting: read the replica logs with the logs tool (replica_0.err first) and explain the cause and the fix; do not relaunch without asking.',
      '5. When serving, hand over: the endpoint URL (router endpoint if there is one, else replica 0), the served_model_name to pass as "model", the job id, and how to stop it (the cancel tool). Example: curl <endpoint>/chat/completions -H "Content-Type: application/json" -d \'{"model": "<served_model_name>", "messages": [{"role": "user", "content": "Hello"}]}\'',
    ];
    return {
      description: `Deploy ${model}`,
      messages: [{ role: 'user', content: { type: 'text', text: steps.join('\n') } }],
    };
  },
});
