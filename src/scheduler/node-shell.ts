import type { SystemProfile } from '../domain/system.js';
import { SmlError } from '../errors.js';
import { quoteArgv } from '../shell.js';

/**
 * SML's node terminal: the argv that opens an interactive shell on one node of a running job.
 * `srun --jobid … --overlap --pty` on a login node: run directly on a SLURM system, through
 * `ssh -t` for SSH systems, and for FirecREST systems through `ssh -t` to the login node named by
 * SML_CLUSTER_SSH_HOST or the profile's `sshHost` (FirecREST itself has no interactive shells).
 */

const HOST_NAME = /^[A-Za-z0-9._-]+$/;

/** The srun command on the login node: a login shell on `node`, sharing the job's allocation. */
export function nodeShellSrun(jobId: string, node: string): string[] {
  if (!/^\d+$/.test(jobId)) throw new SmlError('INVALID_ARGUMENT', `"${jobId}" is not a SLURM job id.`);
  if (!HOST_NAME.test(node)) throw new SmlError('INVALID_ARGUMENT', `"${node}" is not a node name.`);
  return [
    'srun',
    `--jobid=${jobId}`,
    '--overlap',
    '--nodes=1',
    '--ntasks=1',
    `--nodelist=${node}`,
    '--pty',
    'bash',
    '-l',
  ];
}

/** The full argv to run on this machine; `env` supplies SML_CLUSTER_SSH_HOST. */
export function nodeShellArgv(
  system: SystemProfile,
  jobId: string,
  node: string,
  env: Readonly<Record<string, string | undefined>> = {},
): string[] {
  const srun = nodeShellSrun(jobId, node);
  const connection = system.scheduler;
  if (connection.kind === 'slurm') return srun;
  if (connection.kind === 'ssh') {
    const args = ['ssh', '-t'];
    if (connection.port !== undefined) args.push('-p', String(connection.port));
    if (connection.identityFile) args.push('-i', connection.identityFile);
    if (connection.user) args.push('-l', connection.user);
    for (const option of connection.options ?? []) args.push('-o', option);
    const remoteEnv = Object.entries(connection.remoteEnv ?? {}).map(([name, value]) => `${name}=${value}`);
    const command = remoteEnv.length > 0 ? ['env', ...remoteEnv, ...srun] : srun;
    return [...args, connection.host, '--', quoteArgv(command)];
  }
  const host = env.SML_CLUSTER_SSH_HOST || connection.sshHost;
  if (!host) {
    throw new SmlError(
      'NOT_CONFIGURED',
      `${system.name} is reached through FirecREST, which cannot open an interactive shell on a node.`,
      {
        hint: `Set SML_CLUSTER_SSH_HOST to the SSH alias of a ${system.name} login node (SML's cluster_ssh_host), or "sshHost" in the ${system.name} profile's scheduler settings; then run the shell command again.`,
      },
    );
  }
  if (!HOST_NAME.test(host)) {
    throw new SmlError('INVALID_ARGUMENT', `SSH host "${host}" is not a host name or alias.`, {
      hint: 'Give a host name or an alias from ~/.ssh/config in SML_CLUSTER_SSH_HOST.',
    });
  }
  return ['ssh', '-t', host, '--', quoteArgv(srun)];
}
