import { SmlError } from '../src/errors.js';
import type { LoadJobSpec } from '../src/loadtest/service.js';
import { q } from './script.js';

/**
 * The batch script of a load test: one task on one node (CPUs only, no GPUs, no whole node) that
 * runs the shipped stdlib-Python generator (assets/load_generator.py) with the run's config, from
 * the run's directory on the cluster. If Python is missing, it still ends the results file with an
 * `end` line so the reader learns why.
 */

export function renderLoadJob(spec: LoadJobSpec): string {
  const directives = [
    `--job-name=${spec.jobName}`,
    `--comment=${spec.tag}`,
    spec.account && `--account=${spec.account}`,
    spec.partition && `--partition=${spec.partition}`,
    spec.reservation && `--reservation=${spec.reservation}`,
    `--time=${spec.timeLimit}`,
    '--nodes=1',
    '--ntasks=1',
    `--cpus-per-task=${spec.cpus}`,
    spec.afterJobId && `--dependency=after:${spec.afterJobId}`,
    `--output=${spec.runDir}/slurm-%j.out`,
  ].filter((line): line is string => Boolean(line));
  for (const line of directives) {
    // #SBATCH lines are read by sbatch, not bash: only plain characters may appear there.
    if (!/^--[a-z-]+(=[A-Za-z0-9._:%+,/-]+)?$/.test(line)) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `Cannot write the sbatch option '${line}': unexpected characters.`,
        {
          hint: 'Use names of letters, digits, dot, dash and underscore, and a working directory without spaces.',
        },
      );
    }
  }
  const { generator, config, results } = spec.files;
  return [
    '#!/bin/bash',
    ...directives.map((line) => `#SBATCH ${line}`),
    `# sml-mcp load test ${spec.runId}: generated, do not edit.`,
    'set -euo pipefail',
    `cd ${q(spec.runDir)}`,
    'PYTHON="$(command -v python3 || true)"',
    'if [ -z "$PYTHON" ]; then',
    `  echo "sml-mcp: python3 not found on $(hostname); the load generator needs Python 3.6 or newer" >&2`,
    `  printf '{"type":"end","ok":false,"error":"python3 not found on the load node %s"}\\n' "$(hostname)" >>${results}`,
    '  exit 1',
    'fi',
    `exec "$PYTHON" ${generator} ${config} ${results}`,
    '',
  ].join('\n');
}
