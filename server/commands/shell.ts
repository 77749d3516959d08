import { type Command, InvalidArgumentError } from 'commander';
import { execa } from 'execa';
import { SmlError } from '../../src/errors.js';
import type { JobStatusView } from '../../src/jobs/types.js';
import { nodeShellArgv } from '../../src/scheduler/node-shell.js';
import { printErr } from './print.js';
import { runCommand } from './run.js';

/**
 * `sml-mcp shell JOB [--replica R] [--node N]`: an interactive shell on a node of a running job
 * (SML's node terminal). The node comes from the job's status; the shell is `srun --overlap
 * --pty` on the login node (through `ssh -t` when the system is reached over SSH).
 */
export function registerShellCommand(program: Command): void {
  program
    .command('shell')
    .description('Open an interactive shell on a node of a running job (srun --overlap --pty)')
    .argument('<job>', 'SLURM job id')
    .option('--replica <r>', 'Replica whose nodes to use (default 0)', parseIndex('--replica'), 0)
    .option('--node <n>', 'Node rank within the replica (0 = its head, default 0)', parseIndex('--node'), 0)
    .action(async (job: string, options: { replica: number; node: number }) =>
      runCommand(program, async (tools) => {
        const { structured } = await tools.call<{ jobs: JobStatusView[] }>('status', { job_ids: [job] });
        const status = structured.jobs[0]!;
        const node = nodeOf(status, options.replica, options.node);
        const system = tools.config.systems.find((s) => s.name === status.system);
        if (!system)
          throw new SmlError('UNKNOWN_SYSTEM', `System '${status.system}' of job ${job} is not known.`);
        const argv = nodeShellArgv(system, status.job_id, node, process.env);
        printErr(
          `Shell on ${node} (replica ${options.replica}, node ${options.node}) of job ${job}: ${argv.join(' ')}`,
        );
        const result = await execa(argv[0]!, argv.slice(1), { stdio: 'inherit', reject: false });
        if (result.exitCode === undefined && (result as { code?: string }).code === 'ENOENT') {
          throw new SmlError('SCHEDULER_UNREACHABLE', `${argv[0]} is not installed on this machine.`, {
            hint:
              argv[0] === 'ssh'
                ? 'Install an OpenSSH client.'
                : 'Run sml-mcp shell on a login node of the cluster.',
          });
        }
        return result.exitCode ?? 1;
      }),
    );
}

/** The host of node `node` of replica `replica`, from the job's node list and health report. */
export function nodeOf(status: JobStatusView, replica: number, node: number): string {
  if (status.nodes.length === 0) {
    throw new SmlError('INVALID_ARGUMENT', `Job ${status.job_id} has no nodes (it is ${status.phase}).`, {
      hint:
        status.phase === 'ended'
          ? 'Launch it again to get a shell on its nodes.'
          : `Wait until it runs: sml-mcp status ${status.job_id} --wait running.`,
    });
  }
  const replicas = Math.max(1, status.replicas_expected);
  if (replica >= replicas) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `Job ${status.job_id} has ${replicas} replica(s); --replica ${replica} is not one.`,
      {
        hint: `Give --replica between 0 and ${replicas - 1}.`,
      },
    );
  }
  const reported = status.replica_health.find((r) => r.replica === replica)?.node_host;
  const headIndex =
    reported && status.nodes.includes(reported)
      ? status.nodes.indexOf(reported)
      : replica * Math.max(1, Math.floor(status.nodes.length / replicas));
  const host = status.nodes[headIndex + node];
  const nodesPerReplica = Math.max(1, Math.floor(status.nodes.length / replicas));
  if (host === undefined || node >= nodesPerReplica) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `Replica ${replica} of job ${status.job_id} has no node ${node}.`,
      {
        hint: `Its nodes: ${status.nodes.join(', ')}; --node counts from 0 (the replica's head) to ${nodesPerReplica - 1}.`,
      },
    );
  }
  return host;
}

function parseIndex(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} expects 0, 1, 2, …, got '${value}'.`);
    return Number(value);
  };
}
