import type { LaunchSpec } from '../src/domain/launch-spec.js';
import type { RenderReview } from '../src/jobs/types.js';

/**
 * What a person or an agent checks before submitting, read from the rendered scripts themselves
 * (so it can never disagree with them): the #SBATCH header, each rank's engine command, the
 * variables set before the engine starts, and the container. The scripts stay available in full.
 */
export function reviewRender(spec: LaunchSpec, scripts: Readonly<Record<string, string>>): RenderReview {
  const { replicas, nodesPerReplica } = spec.topology;
  const where: Record<string, string> = {
    head: `first node of each of the ${replicas} replica(s)`,
    follower: `nodes 2-${nodesPerReplica} of each replica`,
    router: 'first node of the job',
  };
  const ranks = engineCases(scripts['engine.sh'] ?? '').map(({ role, body }) => ({
    role,
    runs_on: where[role] ?? role,
    command: body,
  }));
  return {
    sbatch: (scripts['master.sh'] ?? '').split('\n').filter((line) => line.startsWith('#SBATCH ')),
    ranks,
    environment: [
      ...topLevelExports(scripts['head.sh'] ?? ''),
      // edf applies the environment file's [env] itself; other runtimes export it in head.sh (above).
      ...(spec.containerRuntime === 'edf'
        ? Object.entries(spec.environment.env).map(([name, value]) => `${name}=${value} (environment file)`)
        : []),
      `container runtime: ${spec.containerRuntime}`,
      ...(spec.containerRuntime === 'none' ? [] : [`environment file: ${spec.environment.clusterPath}`]),
      ...(spec.environment.image ? [`image: ${spec.environment.image}`] : []),
    ],
    pre_launch: spec.preLaunchCommands.trim() === '' ? null : spec.preLaunchCommands.trim(),
  };
}

/** The arms of engine.sh's `case`: role → its command lines (argument shuffling left out). */
function engineCases(engine: string): { role: string; body: string }[] {
  const cases: { role: string; body: string }[] = [];
  let current: { role: string; lines: string[] } | undefined;
  for (const line of engine.split('\n')) {
    const arm = /^ {2}([a-z]+)\)$/.exec(line);
    if (arm) {
      current = { role: arm[1]!, lines: [] };
      continue;
    }
    if (!current) continue;
    if (line.trim() === ';;') {
      cases.push({ role: current.role, body: current.lines.join('\n') });
      current = undefined;
    } else if (!/^\s*(shift|[a-z_]+="\$\d")$/.test(line)) {
      current.lines.push(line.replace(/^ {4}/, ''));
    }
  }
  return cases;
}

function topLevelExports(script: string): string[] {
  return script
    .split('\n')
    .filter((line) => line.startsWith('export '))
    .map((line) => line.slice('export '.length));
}
