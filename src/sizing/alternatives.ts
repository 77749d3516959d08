import type { Framework } from '../domain/framework.js';
import type { ModelArchitecture } from './architecture.js';
import { buildFrameworkArgs, contextArgument } from './engine-args.js';
import { formatTokens } from './explain.js';
import { type Plan, type PlanRequest, planLayout, type SizedModel } from './planner.js';
import { parseQuantization } from './quantization.js';
import type { SizingAlternative } from './schema.js';

/** Other layouts worth knowing next to the chosen one: fp8 KV or weights, packing, the other objective, EP, the other engine. */

function alternative(
  label: string,
  description: string,
  framework: Framework,
  plan: Plan,
  args: string[],
): SizingAlternative | undefined {
  const chosen = plan.chosen;
  if (!chosen) return undefined;
  return {
    label,
    description,
    framework,
    fits: plan.fits,
    layout: chosen.layout,
    framework_args: args,
    kv_capacity_tokens: chosen.kvCapacityTokens,
    max_context_tokens: Math.floor(chosen.maxContext),
  };
}

function describeGpus(
  layout: { gpus_per_replica: number; nodes_per_replica: number },
  gpusPerNode: number,
): string {
  if (layout.nodes_per_replica > 1) return `${layout.nodes_per_replica} nodes`;
  if (layout.gpus_per_replica === gpusPerNode) return 'one node';
  return `${layout.gpus_per_replica} GPU${layout.gpus_per_replica > 1 ? 's' : ''}`;
}

export function buildAlternatives(
  model: SizedModel,
  request: PlanRequest,
  plan: Plan,
  contextGiven: boolean,
): SizingAlternative[] {
  const chosen = plan.chosen;
  const alternatives: SizingAlternative[] = [];
  if (!chosen) return alternatives;
  const gpus = chosen.layout.gpus_per_replica;
  const argsFor = (
    p: Plan,
    req: PlanRequest,
    arch: ModelArchitecture,
    extra: { onlineFp8?: boolean } = {},
  ) =>
    p.chosen
      ? buildFrameworkArgs(req.framework, p.chosen.layout, {
          context: contextArgument(p.chosen, arch, req, contextGiven),
          kvDtype: req.kvDtype,
          ...extra,
        })
      : [];

  if (request.kvDtype === 'auto') {
    const req = { ...request, kvDtype: 'fp8' as const };
    const fp8Kv = planLayout(model, req);
    if (fp8Kv.chosen && fp8Kv.fits) {
      const fewer = fp8Kv.chosen.layout.gpus_per_replica < gpus;
      const description = fewer
        ? `With an fp8 KV cache it fits in ${describeGpus(fp8Kv.chosen.layout, request.gpusPerNode)} instead of ${describeGpus(chosen.layout, request.gpusPerNode)} (KV values in one byte; a small accuracy cost).`
        : `An fp8 KV cache roughly doubles the KV capacity, to ${formatTokens(fp8Kv.chosen.kvCapacityTokens)} tokens (a small accuracy cost).`;
      alternatives.push(
        alternative('fp8 KV cache', description, request.framework, fp8Kv, argsFor(fp8Kv, req, model.arch))!,
      );
    }
  }

  const isSixteenBit = !model.arch.quantization || model.arch.quantization.unknown;
  if (isSixteenBit && request.gpu.hasFp8) {
    const arch: ModelArchitecture = {
      ...model.arch,
      quantization: parseQuantization({ quant_method: 'fp8' }),
    };
    const fp8Model: SizedModel = { arch, params: model.params, weightScale: model.weightScale };
    const fp8 = planLayout(fp8Model, request);
    if (fp8.chosen && fp8.fits && fp8.chosen.layout.gpus_per_replica < gpus) {
      alternatives.push(
        alternative(
          'FP8 weights',
          `Quantized to FP8 at load time (--quantization fp8) it fits ${describeGpus(fp8.chosen.layout, request.gpusPerNode)}: half the weight memory, usually a small accuracy cost; an official FP8 checkpoint is better when one exists.`,
          request.framework,
          fp8,
          argsFor(fp8, request, arch, { onlineFp8: true }),
        )!,
      );
    }
  }

  if (chosen.layout.replicas_per_node > 1) {
    const dp = chosen.layout.replicas_per_node;
    alternatives.push({
      label: 'one process per node',
      description: `Instead of ${dp} separate replicas on a node, one engine process with data parallelism ${dp} (one endpoint per node, the engine balances requests).`,
      framework: request.framework,
      fits: plan.fits,
      layout: {
        ...chosen.layout,
        gpus_per_replica: chosen.layout.gpus_per_replica * dp,
        replicas_per_node: 1,
      },
      framework_args: buildFrameworkArgs(request.framework, chosen.layout, {
        context: contextArgument(chosen, model.arch, request, contextGiven),
        kvDtype: request.kvDtype,
        dataParallel: dp,
      }),
      kv_capacity_tokens: chosen.kvCapacityTokens * dp,
      max_context_tokens: Math.floor(chosen.maxContext),
    });
  }

  const flipped = {
    ...request,
    objective: request.objective === 'latency' ? ('throughput' as const) : ('latency' as const),
  };
  const other = planLayout(model, flipped);
  if (other.chosen && other.fits && other.chosen.layout.gpus_per_replica !== gpus) {
    const description =
      flipped.objective === 'latency'
        ? `For lower latency per request: tp ${other.chosen.layout.tp} over ${describeGpus(other.chosen.layout, request.gpusPerNode)}, one replica per node.`
        : `For throughput: ${other.chosen.layout.replicas_per_node} replicas per node of ${other.chosen.layout.gpus_per_replica} GPU(s) each.`;
    alternatives.push(
      alternative(
        flipped.objective === 'latency' ? 'lower latency' : 'higher throughput',
        description,
        request.framework,
        other,
        argsFor(other, flipped, model.arch),
      )!,
    );
  }

  if (
    model.arch.moe &&
    chosen.layout.ep === 1 &&
    chosen.layout.nodes_per_replica > 1 &&
    request.framework === 'sglang'
  ) {
    const ep = chosen.layout.tp;
    if (model.arch.moe.numExperts % ep === 0) {
      alternatives.push({
        label: 'expert parallelism',
        description: `--ep-size ${ep} gives each GPU whole experts instead of slices of every expert: the same memory, usually more throughput for MoE across nodes.`,
        framework: request.framework,
        fits: plan.fits,
        layout: { ...chosen.layout, ep },
        framework_args: buildFrameworkArgs(
          request.framework,
          { ...chosen.layout, ep },
          {
            context: contextArgument(chosen, model.arch, request, contextGiven),
            kvDtype: request.kvDtype,
          },
        ),
        kv_capacity_tokens: chosen.kvCapacityTokens,
        max_context_tokens: Math.floor(chosen.maxContext),
      });
    }
  }

  const otherFramework: Framework = request.framework === 'sglang' ? 'vllm' : 'sglang';
  const otherRequest = { ...request, framework: otherFramework };
  const otherPlan = planLayout(model, otherRequest);
  if (otherPlan.chosen && otherPlan.fits && (!plan.fits || otherPlan.chosen.layout.gpus_per_replica < gpus)) {
    alternatives.push(
      alternative(
        otherFramework,
        `${otherFramework} fits it in ${describeGpus(otherPlan.chosen.layout, request.gpusPerNode)} (${otherFramework === 'vllm' ? 'tensor parallel in a node, pipeline parallel across nodes' : 'tensor parallel across all GPUs'}).`,
        otherFramework,
        otherPlan,
        argsFor(otherPlan, otherRequest, model.arch),
      )!,
    );
  }
  return alternatives;
}
