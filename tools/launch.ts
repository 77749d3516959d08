import type { ResourceLink } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { parseJobUri } from '../resources/uris.js';
import { toArgv } from '../src/domain/framework-args.js';
import { LaunchRequest } from '../src/domain/launch-spec.js';
import { SmlError } from '../src/errors.js';
import type { LaunchResultView } from '../src/jobs/types.js';
import type { ServerDeps } from '../src/services.js';
import { defineTool } from './define-tool.js';
import { LaunchResultSchema } from './schemas.js';

const input = LaunchRequest.extend({
  layout: z
    .enum(['auto'])
    .optional()
    .describe(
      '"auto": size the model first (as size_model does) and launch the smallest layout that fits the system: sets nodes_per_replica, gpus_per_replica and the parallelism engine arguments (your framework_args still win). Leave nodes_per_replica and gpus_per_replica out with it',
    ),
  dry_run: z
    .boolean()
    .optional()
    .describe(
      'Render the job scripts and check every setting without submitting anything (works without a configured cluster). The scripts come back in `scripts`',
    ),
  idempotency_key: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits, dot, dash, underscore or colon, at most 128')
    .optional()
    .describe(
      'Any unique string for this deployment request (e.g. a UUID). A retried launch with the same key returns the first launch (replayed: true) instead of submitting twice. Recommended',
    ),
});

export const launchTool = defineTool({
  name: 'launch',
  title: 'Launch a model',
  description:
    'Deploy a model as SLURM job(s) serving an OpenAI-compatible API with sglang or vLLM: a catalog model (`model`, see list_models) or any model folder on the cluster (`model_path` + `framework` + `served_model_name`), with every knob of SML advanced mode (replicas, nodes per replica, time, chains of consecutive jobs, engine args, environment, router, OpenTela, metrics). Returns at once with job_ids, the served_model_name and resource URIs; the model then takes minutes to load: follow it with status (wait_until "serving"). Use dry_run to review the rendered scripts first, and an idempotency_key so a retry never submits twice. Call size_model first to choose nodes_per_replica or gpus_per_replica for a model not in the catalog.',
  kind: 'create',
  touchesCluster: true,
  input,
  output: LaunchResultSchema,
  async run(args, { deps, extra, mcp }) {
    const { dry_run: dryRun, idempotency_key: idempotencyKey, layout, ...request } = args;
    const sized = layout === 'auto' ? await applyAutoLayout(request, deps, extra.signal) : undefined;
    const result = await deps.jobs.launch(sized?.request ?? request, {
      dryRun,
      idempotencyKey,
      signal: extra.signal,
    });
    const structured = sized ? { ...result, warnings: [sized.note, ...result.warnings] } : result;
    // New jobs mean new resources (logs, scripts, metrics) in resources/list.
    if (!result.dry_run && !result.replayed) mcp.sendResourceListChanged();
    return { structured, text: describeLaunch(structured), links: linksOf(result) };
  },
});

/** Fill the topology and parallelism arguments from the sizing planner. */
async function applyAutoLayout(
  request: LaunchRequest,
  deps: ServerDeps,
  signal: AbortSignal,
): Promise<{ request: LaunchRequest; note: string }> {
  if (request.nodes_per_replica !== undefined || request.gpus_per_replica !== undefined) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      'layout "auto" chooses nodes_per_replica and gpus_per_replica itself.',
      {
        hint: 'Drop layout to set them yourself, or drop nodes_per_replica and gpus_per_replica.',
      },
    );
  }
  const model = request.model ?? request.model_path;
  if (!model) {
    throw new SmlError('INVALID_ARGUMENT', 'Nothing to size: neither model nor model_path is given.', {
      hint: 'Give a catalog model (list_models) or a model_path with framework and served_model_name.',
    });
  }
  const size = await deps.sizer.size(
    { model, system: request.system, framework: request.framework },
    { signal },
  );
  const { layout, target } = size;
  if (!size.fits) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `${model} does not fit within ${layout.nodes_per_replica} node(s) per replica on ${target.system ?? target.gpu}.`,
      {
        hint: `${size.explanation} Call size_model for the alternatives, or choose a quantized checkpoint.`,
      },
    );
  }
  const isPacked = layout.nodes_per_replica === 1 && layout.gpus_per_replica < target.gpus_per_node;
  const sizedRequest: LaunchRequest = {
    ...request,
    framework: request.framework ?? target.framework,
    nodes_per_replica: layout.nodes_per_replica,
    gpus_per_replica: isPacked ? layout.gpus_per_replica : undefined,
    framework_args: [...size.framework_args, ...toArgv(request.framework_args)],
  };
  const note = `layout "auto" (size_model): ${layout.gpus_per_replica} GPU(s) per replica on ${layout.nodes_per_replica} node(s), tp ${layout.tp}, pp ${layout.pp}, ep ${layout.ep}; engine args ${size.framework_args.join(' ') || 'none'}.`;
  return { request: sizedRequest, note };
}

function describeLaunch(result: LaunchResultView): string {
  const lines: string[] = [];
  if (result.dry_run) {
    lines.push(
      `Dry run on ${result.system}: rendered ${Object.keys(result.scripts ?? {}).join(', ') || 'no scripts'}; nothing was submitted.`,
      `Served model name would be ${result.served_model_name}. Call launch without dry_run to submit.`,
    );
  } else {
    const replayed = result.replayed
      ? ' (replayed: this idempotency_key was used before; nothing new was submitted)'
      : '';
    lines.push(
      result.job_ids.length > 1
        ? `Submitted a chain of ${result.job_ids.length} jobs on ${result.system}${replayed}:`
        : `Submitted job ${result.job_ids[0] ?? '?'} on ${result.system}${replayed}.`,
    );
    if (result.job_ids.length > 1)
      for (const item of result.schedule) lines.push(`  job ${item.job_id} ${item.runs}`);
    lines.push(
      `Served model name: ${result.served_model_name}`,
      `Next: status with job_ids ${JSON.stringify(result.job_ids.slice(0, 1))} and wait_until "serving" (repeat while it times out; loading takes minutes).`,
    );
  }
  for (const warning of result.warnings) lines.push(`Warning: ${warning}`);
  return lines.join('\n');
}

function linksOf(result: LaunchResultView): ResourceLink[] {
  return result.resource_uris.map((uri) => {
    const parsed = parseJobUri(uri);
    const isText = parsed?.kind === 'log' || parsed?.kind === 'script';
    const name =
      parsed?.kind === 'log'
        ? `job ${parsed.jobId} ${parsed.file}`
        : parsed?.kind === 'script'
          ? `job ${parsed.jobId} ${parsed.script}`
          : parsed?.kind === 'metrics'
            ? `job ${parsed.jobId} metrics`
            : parsed
              ? `job ${parsed.jobId}`
              : uri;
    const mimeType =
      parsed?.kind === 'script' ? 'text/x-shellscript' : isText ? 'text/plain' : 'application/json';
    return { type: 'resource_link', uri, name, mimeType };
  });
}
