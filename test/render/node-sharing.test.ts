// biome-ignore-all lint/suspicious/noTemplateCurlyInString: bash ${...} under test
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { render } from '../../sbatch/render.js';
import { launchLayoutOf } from '../../src/domain/launch-spec.js';
import { sharedPortOffset } from '../../src/domain/layout.js';
import { specsFor, systemNamed } from './helpers.js';

/**
 * Node sharing: where a system lets jobs share nodes, a deployment smaller than a node asks for its
 * GPUs instead of the whole node, and its ports move by its job id's offset (the same in master.sh
 * and in what the status reader expects); elsewhere, and for whole nodes, nothing changes.
 */

const SMALL = {
  model: 'swiss-ai/Apertus-8B-Instruct-2509',
  framework: 'sglang',
  gpus_per_replica: 1,
} as const;
const header = (script: string) =>
  script.split('\n').filter((l) => l.startsWith('#SBATCH --gpus') || l === '#SBATCH --exclusive');

describe('node sharing', () => {
  it('asks for its GPUs on a sharing system, whole nodes on CSCS or when the node is full', () => {
    const local = specsFor({ ...SMALL, disable_opentela: true }, { system: systemNamed('local') })[0]!;
    expect(header(render(local)['master.sh'])).toEqual(['#SBATCH --gpus-per-node=1']);
    const pyxis = specsFor({ ...SMALL, replicas: 3 }, { system: systemNamed('clariden', 'pyxis') })[0]!;
    expect(header(render(pyxis)['master.sh'])).toEqual(['#SBATCH --gpus-per-node=3']);
    const clariden = specsFor(SMALL)[0]!;
    expect(header(render(clariden)['master.sh'])).toEqual(['#SBATCH --exclusive']);
    const full = specsFor({ ...SMALL, replicas: 4 }, { system: systemNamed('clariden', 'pyxis') })[0]!;
    expect(header(render(full)['master.sh'])).toEqual(['#SBATCH --exclusive']);
  });

  it('moves a shared job’s ports by the same offset in master.sh and in the status layout', async () => {
    const spec = specsFor(
      { ...SMALL, replicas: 2, router: 'sglang' },
      { system: systemNamed('clariden', 'pyxis') },
    )[0]!;
    const master = render(spec)['master.sh'];
    const offsetLines = master.split('\n').filter((l) => /port_offset|SML_ROUTER_PORT=/.test(l));
    // Run master.sh's own lines in bash for job 41234 and compare with the layout's ports.
    const script = [
      'replica_port=(8080 8081)',
      'SLURM_JOB_ID=41234',
      ...offsetLines,
      'echo "${replica_port[*]} $SML_ROUTER_PORT"',
    ].join('\n');
    const { stdout } = await execa('bash', ['-c', script]);
    const layout = launchLayoutOf(spec, '41234');
    expect(stdout).toBe(`${layout.replicaPorts.join(' ')} ${layout.routerPort}`);
    expect(layout.replicaPorts).toEqual([8080 + sharedPortOffset('41234'), 8081 + sharedPortOffset('41234')]);
    expect(launchLayoutOf(specsFor(SMALL)[0]!, '41234').replicaPorts).toEqual([8080]);
  });
});
