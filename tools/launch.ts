import type { ResourceLink } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { LIVE_VIEW_TOOL_META } from '../resources/live-view.js';
import { parseJobUri } from '../resources/uris.js';
import { toArgv } from '../src/domain/framework-args.js';
import { LaunchRequest } from '../src/domain/launch-spec.js';
import { describeSlurmSettings } from '../src/domain/slurm-settings.js';
import { SmlError } from '../src/errors.js';
import { type DryRunReview, LaunchResultView } from '../src/jobs/types.js';
import type { ServerDeps } from '../src/services.js';
import { defineTool } from './define-tool.js';

const input = LaunchRequest.extend({
  layout: z
    .enum(['auto'])
    .optional()
    .describe('"auto": size_model sets nodes_per_replica, gpus_per_replica, parallel args'),
  dry_run: z.boolean().optional().describe('Check and render only: #SBATCH lines, commands, scripts'),
  idempotency_key: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'letters, digits, dot, dash, underscore or colon, at most 128')
    .optional()
    .describe('e.g. a UUID: a retry returns the first launch'),
});

export const launchTool = defineTool({
  name: 'launch',
  title: 'Launch a model',
  description:
    'Serve a model on SLURM as an OpenAI-compatible API (sglang or vLLM): a catalog `model` or any model folder (`model_path`, `framework`); replicas, multi-node, time, job chains, engine args, router. Returns job_ids at once; loading takes minutes: then status wait_until "serving". Check with dry_run first; an idempotency_key makes retries safe.',
  _meta: LIVE_VIEW_TOOL_META,
  kind: 'create',
  touchesCluster: true,
  input,
  output: LaunchResultView,
  timeoutHint:
    'Part of the launch may have been submitted before it was cut: call status without job_ids to see, and retry with the same idempotency_key (it never submits twice).',
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
      `Dry run on ${result.system}: nothing was submitted. Served model name would be ${result.served_model_name}.`,
      ...(result.review ? describeReview(result.review) : []),
      'Call launch without dry_run to submit.',
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
  lines.push(...describeSlurmSettings(result.slurm_settings), `Telemetry: ${result.telemetry.note}`);
  for (const warning of result.warnings) lines.push(`Warning: ${warning}`);
  return lines.join('\n');
}

/** A dry run's review as lines for a person: header, commands, environment, where the scripts are. */
export function describeReview(review: DryRunReview): string[] {
  return [
    ...review.sbatch,
    ...review.ranks.map(
      (rank) => `${rank.role} (${rank.runs_on}):\n  ${rank.command.replaceAll('\n', '\n  ')}`,
    ),
    `Environment: ${review.environment.join('; ')}`,
    ...(review.pre_launch ? [`Pre-launch commands: ${review.pre_launch}`] : []),
    `Full scripts: ${review.scripts.map((script) => `${script.name} ${script.uri}`).join(', ')}`,
  ];
}

function linksOf(result: LaunchResultView): ResourceLink[] {
  if (result.review) {
    return result.review.scripts.map((script) => ({
      type: 'resource_link',
      uri: script.uri,
      name: `dry run ${script.name}`,
      mimeType: script.name.endsWith('.py') ? 'text/x-python' : 'text/x-shellscript',
      size: script.bytes,
    }));
  }
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
