import { describe, expect, it } from 'vitest';
import { nodeOf } from '../../server/commands/shell.js';
import { SystemProfile } from '../../src/domain/system.js';
import type { JobStatusView } from '../../src/jobs/types.js';
import { nodeShellArgv } from '../../src/scheduler/node-shell.js';
import { thrown as errorOf } from '../helpers/errors.js';
import { systemNamed } from '../render/helpers.js';

const SRUN = [
  'srun',
  '--jobid=123',
  '--overlap',
  '--nodes=1',
  '--ntasks=1',
  '--nodelist=nid002',
  '--pty',
  'bash',
  '-l',
];

describe('node shell argv (SML node terminal)', () => {
  it('runs srun --overlap --pty directly on a SLURM login node', () => {
    expect(nodeShellArgv(systemNamed('local'), '123', 'nid002')).toEqual(SRUN);
  });

  it('wraps it in ssh -t for SSH systems, with the profile settings and remote environment', () => {
    const system = SystemProfile.parse({
      ...systemNamed('local'),
      scheduler: {
        kind: 'ssh',
        host: 'login.example',
        user: 'alice',
        port: 2222,
        options: ['StrictHostKeyChecking=no'],
        remoteEnv: { SLURM_CONF: '/etc/slurm conf/slurm.conf' },
      },
    });
    expect(nodeShellArgv(system, '123', 'nid002')).toEqual([
      'ssh',
      '-t',
      '-p',
      '2222',
      '-l',
      'alice',
      '-o',
      'StrictHostKeyChecking=no',
      'login.example',
      '--',
      `env 'SLURM_CONF=/etc/slurm conf/slurm.conf' ${SRUN.join(' ')}`,
    ]);
  });

  it('for FirecREST needs the SSH host, and names the setting to add', () => {
    const failure = errorOf(() => nodeShellArgv(systemNamed('clariden'), '123', 'nid002'));
    expect(failure.code).toBe('NOT_CONFIGURED');
    expect(failure.message).toMatch(/clariden is reached through FirecREST/);
    expect(failure.hint).toMatch(/SML_CLUSTER_SSH_HOST/);
    expect(failure.hint).toMatch(/sshHost/);
    expect(
      nodeShellArgv(systemNamed('clariden'), '123', 'nid002', { SML_CLUSTER_SSH_HOST: 'clariden' }),
    ).toEqual(['ssh', '-t', 'clariden', '--', SRUN.join(' ')]);
    expect(
      errorOf(() =>
        nodeShellArgv(systemNamed('clariden'), '1', 'n1', { SML_CLUSTER_SSH_HOST: '-oProxyCommand=x' }),
      ).code,
    ).toBe('INVALID_ARGUMENT');
  });

  it('refuses a job id or node name that is not one', () => {
    expect(errorOf(() => nodeShellArgv(systemNamed('local'), '12;rm', 'n1')).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => nodeShellArgv(systemNamed('local'), '12', 'n1 -x')).code).toBe('INVALID_ARGUMENT');
  });
});

describe('which node of a job', () => {
  const status = (over: Partial<JobStatusView>): JobStatusView =>
    ({
      job_id: '123',
      phase: 'serving',
      nodes: [],
      replicas_expected: 2,
      replica_health: [],
      ...over,
    }) as JobStatusView;
  const health = (replica: number, node_host: string) =>
    ({
      replica,
      node_host,
      node_ip: null,
      port: 8080,
      health: 'HEALTHY',
      last_seen: null,
      peer_id: null,
    }) as const;

  it('takes the replica head from the health report, then its node rank', () => {
    const job = status({
      nodes: ['n1', 'n2', 'n3', 'n4'],
      replica_health: [health(0, 'n1'), health(1, 'n3')],
    });
    expect(nodeOf(job, 0, 0)).toBe('n1');
    expect(nodeOf(job, 1, 0)).toBe('n3');
    expect(nodeOf(job, 1, 1)).toBe('n4');
  });

  it('without a report, counts nodes per replica from the node list', () => {
    const job = status({ nodes: ['n1', 'n2', 'n3', 'n4'] });
    expect(nodeOf(job, 1, 1)).toBe('n4');
  });

  it('explains a job without nodes, a replica or node it does not have', () => {
    expect(errorOf(() => nodeOf(status({ phase: 'queued' }), 0, 0)).hint).toMatch(/--wait running/);
    expect(errorOf(() => nodeOf(status({ nodes: ['n1', 'n2'] }), 2, 0)).message).toMatch(/2 replica\(s\)/);
    expect(errorOf(() => nodeOf(status({ nodes: ['n1', 'n2'] }), 0, 1)).hint).toMatch(/n1, n2/);
  });
});
