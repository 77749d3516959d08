// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file writes bash, where ${...} is bash syntax

import { readFileSync } from 'node:fs';
import { assetPath } from '../src/assets.js';
import { LaunchSpec } from '../src/domain/launch-spec.js';
import { SmlError } from '../src/errors.js';
import { renderMaster } from './master.js';
import { renderMetrics } from './metrics.js';
import { renderEngine, renderFollower, renderHead, renderRouter } from './ranks.js';

/**
 * The job-script renderer: one LaunchSpec → a self-contained `master.sh` (the batch script) plus
 * the files it extracts under `$HOME/.sml/job-$SLURM_JOB_ID/` on the cluster (returned too, for
 * inspection). Behaviour follows SML (sections 3.2-3.9 of the inventory) with every value quoted,
 * JSON from a serializer, the OpenTela command staged in a file and logs created first.
 *
 * Files of a job (working dir = `--chdir`):
 *   sml-<id>.slurm.log            what SLURM itself writes (before master redirects, and slurmstepd
 *                                 messages such as the time-limit notice); needs no directory
 *   logs/<id>/log.out|log.err     master's output (master creates logs/<id>/ first thing)
 *   logs/<id>/replica_<r>.out|err, replica_<r>_node<k>.out|err, router.out|err
 *   logs/<id>/replica_health.json, replica_health_checker.log
 *   $HOME/.sml/job-<id>/          head.sh, follower.sh, router.sh, engine.sh, pre_launch.sh,
 *                                 metrics.sh, replica_health_checker.py, telemetry.json
 */
export interface RenderedScripts {
  'master.sh': string;
  'head.sh': string;
  'follower.sh'?: string;
  'router.sh'?: string;
  /** The engine command lines OpenTela (or the rank script) runs: `engine.sh head|follower|router …`. */
  'engine.sh': string;
  /** The user's pre-launch commands, sourced by every rank script. */
  'pre_launch.sh'?: string;
  /** Metrics sidecars (vmagent, DCGM exporter), when the system has metrics. */
  'metrics.sh'?: string;
  'replica_health_checker.py': string;
}

let healthCheckerSource: string | undefined;
function readHealthChecker(): string {
  healthCheckerSource ??= readFileSync(assetPath('replica_health_checker.py'), 'utf8');
  return healthCheckerSource;
}

/**
 * Render the scripts of one job. Job i > 0 of a chain must carry its predecessor's id
 * (`bindPreviousJob`): its dependency and its health checker's handover need it.
 */
export function render(spec: LaunchSpec): RenderedScripts {
  const parsed = LaunchSpec.safeParse(spec);
  if (!parsed.success) {
    throw new SmlError('INTERNAL', `Invalid launch spec: ${parsed.error.issues[0]?.message ?? 'unknown'}.`);
  }
  if (spec.chain.index > 0 && !spec.chain.previousJobId) {
    throw new SmlError(
      'INTERNAL',
      `Job ${spec.chain.index} of a chain needs its predecessor's job id before rendering.`,
    );
  }
  const files: Record<string, string> = {
    'head.sh': renderHead(spec),
    'engine.sh': renderEngine(spec),
  };
  if (spec.topology.nodesPerReplica > 1) files['follower.sh'] = renderFollower(spec);
  if (spec.router.isEnabled) files['router.sh'] = renderRouter(spec);
  if (spec.preLaunchCommands.trim() !== '') {
    files['pre_launch.sh'] =
      `# shellcheck shell=bash\n# User-supplied pre-launch commands (sourced by every rank script)\n${spec.preLaunchCommands}\n`;
  }
  const metrics = renderMetrics(spec);
  if (metrics) files['metrics.sh'] = metrics;
  files['replica_health_checker.py'] = readHealthChecker();
  return {
    ...(files as Omit<RenderedScripts, 'master.sh'>),
    'master.sh': renderMaster(spec, files),
  } as RenderedScripts;
}
