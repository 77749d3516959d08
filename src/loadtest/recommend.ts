import { z } from 'zod';
import { round } from './results.js';
import type { Recommendation, StepResult } from './view.js';

/**
 * Right-size from a measurement: the best step that met the latency target gives what the tested
 * deployment sustains; divided by its replicas, that is one replica's capacity; the target divided
 * by it (rounded up) is the replica count, and the layout turns replicas into GPUs and nodes.
 */

export const SizingTarget = z.object({
  requests_per_s: z.number().positive().optional(),
  output_tokens_per_s: z.number().positive().optional(),
  p99_ttft_s: z.number().positive().optional(),
  max_error_rate: z.number().min(0).max(1).optional(),
});
export type SizingTarget = z.infer<typeof SizingTarget>;

/** How the tested deployment was laid out (from its launch record). */
export interface TestedLayout {
  replicas: number;
  nodes_per_replica: number;
  gpus_per_replica: number;
  gpus_per_node: number;
  /** Whether the system lets jobs share nodes (then small deployments pay for GPUs, not nodes). */
  shares_nodes: boolean;
}

const DEFAULT_MAX_ERROR_RATE = 0.01;

export function recommend(
  target: SizingTarget,
  steps: readonly StepResult[],
  layout: TestedLayout | null,
): Recommendation {
  const arithmetic: string[] = [];
  const maxErrors = target.max_error_rate ?? DEFAULT_MAX_ERROR_RATE;
  const latencyLimit = target.p99_ttft_s;
  const usable = steps.filter(
    (s) =>
      s.ok > 0 &&
      s.error_rate <= maxErrors &&
      (latencyLimit === undefined || (s.ttft_s.p99 !== null && s.ttft_s.p99 <= latencyLimit)),
  );
  const limitText = `${latencyLimit === undefined ? '' : `p99 TTFT ≤ ${latencyLimit} s and `}errors ≤ ${round(maxErrors * 100, 1)}%`;
  if (usable.length === 0) {
    return {
      feasible: false,
      basis_step: null,
      per_replica: null,
      replicas: null,
      gpus: null,
      nodes: null,
      arithmetic: [`No step met ${limitText}.`],
      advice:
        latencyLimit !== undefined && steps.some((s) => s.ok > 0)
          ? 'Even the lightest load missed the latency target: more replicas cannot fix that. Use more GPUs per replica (a larger tensor-parallel size), a faster system, shorter prompts, or relax the target; then test the lowest concurrency again.'
          : 'The test produced no usable step: check its errors, then run it again.',
    };
  }
  const basis = usable.reduce((a, b) => (b.requests_per_s > a.requests_per_s ? b : a));
  const tested = layout?.replicas ?? 1;
  const perReplica = {
    requests_per_s: basis.requests_per_s / tested,
    output_tokens_per_s: basis.output_tokens_per_s / tested,
  };
  const load =
    basis.concurrency !== null ? `${basis.concurrency} concurrent streams` : `${basis.rate} req/s offered`;
  arithmetic.push(
    `Best step within ${limitText}: step ${basis.index} (${load}) sustained ${round(basis.requests_per_s)} req/s and ${round(basis.output_tokens_per_s, 1)} output tok/s (p99 TTFT ${basis.ttft_s.p99 === null ? 'n/a' : `${round(basis.ttft_s.p99)} s`}).`,
    `Per replica: ${round(basis.requests_per_s)} / ${tested} replica(s) = ${round(perReplica.requests_per_s, 3)} req/s, ${round(basis.output_tokens_per_s, 1)} / ${tested} = ${round(perReplica.output_tokens_per_s, 1)} tok/s.`,
  );
  const needs: number[] = [];
  if (target.requests_per_s !== undefined) {
    const n = Math.ceil(target.requests_per_s / perReplica.requests_per_s);
    arithmetic.push(
      `Replicas for ${target.requests_per_s} req/s: ⌈${target.requests_per_s} / ${round(perReplica.requests_per_s, 3)}⌉ = ${n}.`,
    );
    needs.push(n);
  }
  if (target.output_tokens_per_s !== undefined) {
    const n = Math.ceil(target.output_tokens_per_s / perReplica.output_tokens_per_s);
    arithmetic.push(
      `Replicas for ${target.output_tokens_per_s} tok/s: ⌈${target.output_tokens_per_s} / ${round(perReplica.output_tokens_per_s, 1)}⌉ = ${n}.`,
    );
    needs.push(n);
  }
  const replicas = needs.length > 0 ? Math.max(...needs) : tested;
  if (needs.length === 0) arithmetic.push(`No throughput target: keep ${tested} replica(s).`);
  let gpus: number | null = null;
  let nodes: number | null = null;
  if (layout) {
    gpus = replicas * layout.gpus_per_replica;
    const isWholeNode = layout.gpus_per_replica >= layout.gpus_per_node;
    if (isWholeNode) {
      nodes = replicas * layout.nodes_per_replica;
      arithmetic.push(
        `GPUs: ${replicas} × ${layout.gpus_per_replica} = ${gpus}; nodes: ${replicas} × ${layout.nodes_per_replica} = ${nodes}.`,
      );
    } else {
      const perNode = Math.floor(layout.gpus_per_node / layout.gpus_per_replica);
      nodes = Math.ceil(replicas / perNode);
      arithmetic.push(
        `GPUs: ${replicas} × ${layout.gpus_per_replica} = ${gpus}; ${perNode} replicas fit a ${layout.gpus_per_node}-GPU node, so ⌈${replicas} / ${perNode}⌉ = ${nodes} node(s)${layout.shares_nodes ? ' worth of GPUs (this system shares nodes: the jobs ask for GPUs, not whole nodes)' : ' (whole nodes: this system does not share nodes between jobs)'}.`,
      );
    }
  }
  const headroom = Math.ceil(replicas * 1.2);
  return {
    feasible: true,
    basis_step: basis.index,
    per_replica: {
      requests_per_s: round(perReplica.requests_per_s, 4),
      output_tokens_per_s: round(perReplica.output_tokens_per_s, 2),
    },
    replicas,
    gpus,
    nodes,
    arithmetic,
    advice: `Launch ${replicas} replica(s)${layout ? ` of ${layout.gpus_per_replica} GPU(s) each` : ''}${replicas > 1 ? ' behind the sglang router (router: "sglang")' : ''}; ${headroom > replicas ? `${headroom} leave 20% headroom for bursts. ` : ''}Then load-test the new deployment at the target to confirm.`,
  };
}
