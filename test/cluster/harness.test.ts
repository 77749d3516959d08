import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CLUSTER_NODES, clusterEnv, describeOnCluster, runOnCluster } from '../helpers/cluster.js';
import { JOB_TEST_TIMEOUT_MS, jobDir, jobState, QUEUE_WAIT_MS, submit, waitForEnd } from './jobs.js';

describeOnCluster('local SLURM cluster', () => {
  it('has four responding nodes n1..n4 with their own addresses', async () => {
    const nodes = await runOnCluster('sinfo', ['-h', '-N', '-p', 'normal', '-o', '%N %t']);
    const states = new Map(
      nodes.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/) as [string, string]),
    );
    expect([...states.keys()].sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    for (const state of states.values()) expect(state).toMatch(/^(idle|mix|alloc|comp|resv|maint)$/);
    for (const node of CLUSTER_NODES) {
      const shown = await runOnCluster('scontrol', ['show', 'node', '-o', node.name]);
      expect(shown.stdout).toContain(`NodeAddr=${node.address}`);
    }
  });

  it(
    'runs a four-node job whose steps see distinct hostnames and addresses',
    async () => {
      const dir = jobDir('nodes');
      const id = await submit(dir, 'srun --ntasks-per-node=1 bash -c \'echo "$(hostname) $(hostname -i)"\'', {
        nodes: 4,
        name: 'sml-harness-nodes',
      });
      expect(await waitForEnd(id, QUEUE_WAIT_MS)).toBe('COMPLETED');
      const lines = readFileSync(join(dir, 'job.out'), 'utf8').trim().split('\n').sort();
      expect(lines).toEqual(CLUSTER_NODES.map((node) => `${node.name} ${node.address}`));
    },
    JOB_TEST_TIMEOUT_MS,
  );

  it('offers the normal and debug partitions and the sml-maint reservation', async () => {
    const partitions = await runOnCluster('sinfo', ['-h', '-o', '%P %l']);
    expect(partitions.stdout).toContain('normal* 1-00:00:00');
    expect(partitions.stdout).toContain('debug 30:00');
    const reservations = await runOnCluster('scontrol', ['show', 'reservation', '-o']);
    expect(reservations.stdout).toMatch(/ReservationName=sml-maint .*Nodes=n4/);
    const config = await runOnCluster('scontrol', ['show', 'config']);
    expect(config.stdout).toMatch(/MinJobAge\s+=\s+3600/);
  });

  it(
    'still knows a finished job: sacct (or scontrol without accounting) reports its state and exit code',
    async () => {
      const dir = jobDir('acct');
      const id = await submit(dir, 'echo finishing; exit 3', { nodes: 1, name: 'sml-harness-acct' });
      await waitForEnd(id, QUEUE_WAIT_MS);
      const config = await runOnCluster('scontrol', ['show', 'config']);
      const hasAccounting = /AccountingStorageType\s+=\s+accounting_storage\/slurmdbd/.test(config.stdout);
      if (hasAccounting) {
        // The job record reaches slurmdbd shortly after the job ends.
        let row = '';
        for (let attempt = 0; attempt < 40 && !row.startsWith('FAILED'); attempt++) {
          const sacct = await runOnCluster('sacct', [
            '-n',
            '-X',
            '-P',
            '-j',
            id,
            '-o',
            'State,ExitCode,Account',
          ]);
          row = sacct.stdout.trim();
          if (!row.startsWith('FAILED')) await new Promise((resolve) => setTimeout(resolve, 500));
        }
        expect(row).toBe(`FAILED|3:0|${clusterEnv().SML_CLUSTER_ACCOUNT}`);
        const user = await runOnCluster('sacctmgr', [
          '-n',
          '-P',
          'show',
          'user',
          'root',
          'format=user,defaultaccount',
        ]);
        expect(user.stdout.trim()).toBe(`root|${clusterEnv().SML_CLUSTER_ACCOUNT}`);
      } else {
        const shown = await runOnCluster('scontrol', ['show', 'job', '-o', id]);
        expect(shown.stdout).toMatch(/JobState=FAILED .*ExitCode=3:0/);
      }
      expect(await jobState(id)).toBe('FAILED');
    },
    JOB_TEST_TIMEOUT_MS,
  );
});
