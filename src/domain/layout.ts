import { SmlError } from '../errors.js';

/**
 * Where replicas run and how to reach them. Ports are fixed so a status reader can derive every
 * endpoint from the launch and the replica heads' addresses: the engine of replica r listens on
 * ENGINE_BASE_PORT + slot (slot = its position on a node shared with other replicas, 0 otherwise),
 * the sglang router on ROUTER_PORT on the first node.
 */

export const ENGINE_BASE_PORT = 8080;
export const ROUTER_PORT = 30_000;
export const OPENTELA_API_PORT = 8092;
export const SGLANG_DIST_INIT_PORT = 5757;
export const RAY_HEAD_PORT = 6379;
export const DCGM_EXPORTER_PORT = 9400;

export interface Topology {
  replicas: number;
  nodesPerReplica: number;
  /** GPUs one replica uses (whole nodes: nodesPerReplica × GPUs per node). */
  gpusPerReplica: number;
  gpusPerNode: number;
  /** Replicas sharing one node (1 unless packing). */
  replicasPerNode: number;
  /** True when replicas use part of a node, each pinned to its own GPUs and port. */
  isPacked: boolean;
  totalNodes: number;
}

/**
 * Jobs that share a node with other jobs move every port (engines, router) by an offset derived
 * from their job id, so two deployments on one node never collide. master.sh computes the same:
 * `$((10000 + SLURM_JOB_ID % 1000 * 10))`; ten ports per job cover up to eight replicas per node.
 */
export function sharedPortOffset(jobId: string): number {
  return 10_000 + (Number.parseInt(jobId, 10) % 1000) * 10;
}

export interface ReplicaPlacement {
  replica: number;
  /** Index into the job's node list of the replica's head (node rank 0). */
  headNodeIndex: number;
  /** Position among the replicas of the same node (0 when not packed). */
  slot: number;
  port: number;
  /** GPU indices the replica sees, or undefined for every GPU of its nodes. */
  devices?: number[];
}

export function computeTopology(input: {
  replicas: number;
  nodesPerReplica: number;
  gpusPerReplica?: number;
  gpusPerNode: number;
}): Topology {
  const { replicas, nodesPerReplica, gpusPerNode } = input;
  const wholeNodes = nodesPerReplica * gpusPerNode;
  const gpusPerReplica = input.gpusPerReplica ?? wholeNodes;
  if (nodesPerReplica > 1 && gpusPerReplica !== wholeNodes) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `gpus_per_replica ${gpusPerReplica} does not fit nodes_per_replica ${nodesPerReplica}: a multi-node replica takes whole nodes (${nodesPerReplica} × ${gpusPerNode} = ${wholeNodes} GPUs).`,
      { hint: `Drop gpus_per_replica, or set nodes_per_replica 1 to pack smaller replicas on one node.` },
    );
  }
  if (nodesPerReplica === 1 && gpusPerReplica > gpusPerNode) {
    const nodes = Math.ceil(gpusPerReplica / gpusPerNode);
    throw new SmlError(
      'INVALID_ARGUMENT',
      `gpus_per_replica ${gpusPerReplica} is more than one node holds (${gpusPerNode} GPUs).`,
      { hint: `Set nodes_per_replica ${nodes} (and drop gpus_per_replica) for a multi-node replica.` },
    );
  }
  if (nodesPerReplica === 1 && gpusPerNode % gpusPerReplica !== 0) {
    const divisors = Array.from({ length: gpusPerNode }, (_, i) => i + 1).filter(
      (d) => gpusPerNode % d === 0,
    );
    throw new SmlError(
      'INVALID_ARGUMENT',
      `gpus_per_replica ${gpusPerReplica} must divide the node's ${gpusPerNode} GPUs.`,
      { hint: `Use one of ${divisors.join(', ')}.` },
    );
  }
  const replicasPerNode = nodesPerReplica === 1 ? gpusPerNode / gpusPerReplica : 1;
  const isPacked = replicasPerNode > 1;
  return {
    replicas,
    nodesPerReplica,
    gpusPerReplica,
    gpusPerNode,
    replicasPerNode,
    isPacked,
    totalNodes: isPacked ? Math.ceil(replicas / replicasPerNode) : replicas * nodesPerReplica,
  };
}

export function placeReplica(topology: Topology, replica: number): ReplicaPlacement {
  if (!topology.isPacked) {
    return { replica, headNodeIndex: replica * topology.nodesPerReplica, slot: 0, port: ENGINE_BASE_PORT };
  }
  const slot = replica % topology.replicasPerNode;
  const first = slot * topology.gpusPerReplica;
  return {
    replica,
    headNodeIndex: Math.floor(replica / topology.replicasPerNode),
    slot,
    port: ENGINE_BASE_PORT + slot,
    devices: Array.from({ length: topology.gpusPerReplica }, (_, i) => first + i),
  };
}

export function placeReplicas(topology: Topology): ReplicaPlacement[] {
  return Array.from({ length: topology.replicas }, (_, r) => placeReplica(topology, r));
}

/** Log files (under `logs/<job id>/`) a job writes: master, replica heads, followers, router, health checker. */
export function logFilesOf(topology: Topology, hasRouter: boolean): string[] {
  const files = ['log.out', 'log.err'];
  for (let r = 0; r < topology.replicas; r++) {
    files.push(`replica_${r}.out`, `replica_${r}.err`);
    for (let k = 1; k < topology.nodesPerReplica; k++)
      files.push(`replica_${r}_node${k}.out`, `replica_${r}_node${k}.err`);
  }
  if (hasRouter) files.push('router.out', 'router.err');
  files.push('replica_health_checker.log');
  return files;
}
