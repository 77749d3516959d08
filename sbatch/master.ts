// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file writes bash, where ${...} is bash syntax
import { chainDirectives } from '../src/domain/chain.js';
import type { LaunchSpec } from '../src/domain/launch-spec.js';
import {
  ENGINE_BASE_PORT,
  OPENTELA_API_PORT,
  placeReplicas,
  type ReplicaPlacement,
} from '../src/domain/layout.js';
import { SmlError } from '../src/errors.js';
import { routerPortWord } from './ranks.js';
import { blocks, heredocWrite, q } from './script.js';

/** master.sh, the batch script: SLURM directives, layout, rank-script extraction, replica steps, health checker and supervisor. */

/** Where SLURM writes the batch script's own output (relative to the job's working dir). */
export const SLURM_OUTPUT_PATTERN = 'sml-%j.slurm.log';

/** Markers around master.sh's generated data (numbers only): the layout of the job. */
export const LAYOUT_BEGIN = 'sml-mcp layout';

export const LAYOUT_END = 'end of layout';

function sbatchHeader(spec: LaunchSpec): string {
  const job = {
    index: spec.chain.index,
    chainLength: spec.chain.length,
    offsetSeconds: spec.chain.offsetSeconds,
    timeLimitSeconds: spec.slurm.timeLimitSeconds,
    timeLimit: spec.slurm.timeLimit,
    dependencyDelayMinutes: spec.chain.dependencyDelayMinutes,
  };
  const directives = chainDirectives(job, spec.chain.previousJobId);
  const lines = [
    `--job-name=${spec.jobName}`,
    `--comment=${spec.jobTag}`,
    spec.slurm.account && `--account=${spec.slurm.account}`,
    spec.slurm.partition && `--partition=${spec.slurm.partition}`,
    spec.slurm.reservation && `--reservation=${spec.slurm.reservation}`,
    `--time=${spec.slurm.timeLimit}`,
    `--nodes=${spec.topology.totalNodes}`,
    // Where nodes are shared, a deployment smaller than a node takes only its GPUs.
    spec.slurm.sharedNodeGpus ? `--gpus-per-node=${spec.slurm.sharedNodeGpus}` : '--exclusive',
    directives.begin && `--begin=${directives.begin}`,
    directives.dependency && `--dependency=${directives.dependency}`,
    `--output=${SLURM_OUTPUT_PATTERN}`,
  ];
  for (const line of lines) {
    // #SBATCH lines are read by sbatch, not bash: only plain characters may appear there.
    if (line && !/^--[a-z-]+(=[A-Za-z0-9._:%+,/-]+)?$/.test(line)) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `Cannot write the sbatch option '${line}': unexpected characters.`,
      );
    }
  }
  return lines
    .filter(Boolean)
    .map((line) => `#SBATCH ${line}`)
    .join('\n');
}

function telemetryBlock(spec: LaunchSpec, placements: ReplicaPlacement[]): string | undefined {
  const endpoint = spec.telemetry.endpoint;
  if (!endpoint) return undefined;
  const payload = {
    user: spec.user,
    slurm_nodes: spec.topology.totalNodes,
    slurm_job_name: spec.jobName,
    slurm_partition: spec.slurm.partition ?? null,
    slurm_time: spec.slurm.timeLimit,
    slurm_account: spec.slurm.account ?? null,
    slurm_environment: spec.environment.clusterPath,
    interactive: false,
    serving_framework: spec.framework,
    framework_args: ['--port', String(ENGINE_BASE_PORT), ...spec.engineArgs].join(' '),
    pre_launch_cmds: spec.preLaunchCommands,
    model_name: spec.servedModelName,
    replicas: spec.topology.replicas,
    nodes_per_replica: spec.topology.nodesPerReplica,
    gpus_per_replica: spec.topology.gpusPerReplica,
    framework_port: ENGINE_BASE_PORT,
    framework_ports: placements.map((p) => p.port),
    use_router: spec.router.isEnabled,
    router_environment: spec.environment.clusterPath,
    router_port: spec.router.port,
    router_args: spec.router.args.join(' '),
    ocf_enabled: spec.opentela.isEnabled,
    ocf_bootstrap_addr: spec.opentela.bootstrapAddr ?? null,
    ocf_service_name: 'llm',
    ocf_service_port: spec.router.isEnabled ? spec.router.port : ENGINE_BASE_PORT,
    chain_index: spec.chain.index,
    chain_length: spec.chain.length,
    model_launch_version: `sml-mcp ${spec.version}`,
  };
  // The job id is only known in the job (digits, checked at the top); the rest is serialized here.
  const rest = JSON.stringify(payload).slice(1);
  return [
    '# Telemetry: one JSON description of this job (configured endpoint only; no secrets).',
    `printf '{"job_id":"%s",%s\\n' "$SLURM_JOB_ID" ${q(rest)} >"$RANKS_DIR/telemetry.json"`,
    `curl -sf -m 10 -X POST ${q(endpoint)} -H 'Content-Type: application/json' --data-binary "@$RANKS_DIR/telemetry.json" >/dev/null || echo "sml-mcp: telemetry POST failed (ignored)" >&2`,
  ].join('\n');
}

function containerSetup(spec: LaunchSpec): string | undefined {
  const runtime = spec.containerRuntime;
  if (runtime === 'none') return undefined;
  const lines = [`# Container runtime: ${runtime}`];
  if (runtime === 'edf') {
    lines.push(
      `SML_ENV_FILE=${q(spec.environment.clusterPath)}`,
      'if [ ! -f "$SML_ENV_FILE" ]; then',
      '  echo "Environment file not found: $SML_ENV_FILE" >&2',
      '  exit 1',
      'fi',
      'if grep -q \'{arch}\' "$SML_ENV_FILE"; then',
      '  # An absolute path: a value without / would be taken as a registered EDF name.',
      '  resolved_env="${PWD}/env_resolved_${SLURM_JOB_ID}_${SML_ARCH}.toml"',
      '  sed "s/{arch}/${SML_ARCH}/g" "$SML_ENV_FILE" >"$resolved_env"',
      '  SML_ENV_FILE="$resolved_env"',
      'fi',
      'echo "Environment file: $SML_ENV_FILE"',
    );
  }
  lines.push(
    `SML_IMAGE=${q(spec.environment.image ?? '')}`,
    'SML_IMAGE="${SML_IMAGE//\\{arch\\}/$SML_ARCH}"',
    'case "$SML_IMAGE" in',
    '  /*)',
    '    if [ ! -e "$SML_IMAGE" ]; then',
    '      echo "Container image not found: $SML_IMAGE" >&2',
    '      exit 1',
    '    fi',
    '    ;;',
    'esac',
    'echo "Container image: $SML_IMAGE"',
  );
  return lines.join('\n');
}

function normalizedMounts(spec: LaunchSpec): string[] {
  return spec.environment.mounts.map((mount) => (mount.includes(':') ? mount : `${mount}:${mount}`));
}

/** srun options that put a step in the container (edf, pyxis) — apptainer wraps the command instead. */
function containerSrunFlags(spec: LaunchSpec): string {
  switch (spec.containerRuntime) {
    case 'edf':
      return ' --container-writable --container-mounts="$RANKS_DIR:$RANKS_DIR" --environment="$SML_ENV_FILE"';
    case 'pyxis': {
      const mounts = normalizedMounts(spec);
      const extraMounts = mounts.length ? q(`,${mounts.join(',')}`) : '';
      const workdir = spec.environment.workdir ? ` --container-workdir=${q(spec.environment.workdir)}` : '';
      return ` --container-image="$SML_IMAGE" --container-writable --container-mounts="$RANKS_DIR:$RANKS_DIR"${extraMounts}${workdir}`;
    }
    default:
      return '';
  }
}

function commandPrefix(spec: LaunchSpec): string {
  if (spec.containerRuntime !== 'apptainer') return '';
  const gpuFlag = spec.gpuVendor === 'amd' ? '--rocm' : '--nv';
  const binds = normalizedMounts(spec)
    .map((m) => ` --bind ${q(m)}`)
    .join('');
  const workdir = spec.environment.workdir ? ` --pwd ${q(spec.environment.workdir)}` : '';
  return `apptainer exec ${gpuFlag} --bind "$RANKS_DIR:$RANKS_DIR"${binds}${workdir} "$SML_IMAGE" `;
}

function srunStep(spec: LaunchSpec, node: string, logBase: string, command: string): string {
  return [
    `srun --overlap --nodes=1 --ntasks=1 --nodelist="${node}"${containerSrunFlags(spec)} \\`,
    `  --open-mode=append --output="$SML_LOG_DIR/${logBase}.out" --error="$SML_LOG_DIR/${logBase}.err" \\`,
    `  ${commandPrefix(spec)}${command} &`,
  ].join('\n');
}

export function renderMaster(spec: LaunchSpec, files: Record<string, string>): string {
  const placements = placeReplicas(spec.topology);
  return `${blocks(
    ['#!/bin/bash', sbatchHeader(spec)].join('\n'),
    masterPrologue(spec),
    logSetup(spec),
    layoutBlock(spec),
    spec.chain.index > 0 && chainGuard(),
    cleanupTraps(),
    extractRankScripts(files),
    architectureBlock(),
    telemetryBlock(spec, placements),
    containerSetup(spec),
    nodeListBlock(),
    replicaAddressesBlock(),
    replicaStepsBlock(spec),
    spec.metrics.isEnabled && metricsSidecarsBlock(spec),
    healthCheckerBlock(spec),
    spec.router.isEnabled && routerBlock(spec),
    supervisionBlock(spec),
  )}\n`;
}

/** Who made the script, strict mode, and a refusal to run outside a batch job. */
function masterPrologue(spec: LaunchSpec): string {
  return [
    `# sml-mcp ${spec.version}: ${spec.framework} on ${spec.systemName}, job ${spec.chain.index + 1} of ${spec.chain.length} of launch ${spec.launchId}.`,
    '# Generated: submit with `sbatch --chdir <working dir> master.sh`. Logs: logs/<job id>/ in that directory.',
    'set -euo pipefail',
    'case "${SLURM_JOB_ID:-}" in',
    "  '' | *[!0-9]*) echo 'sml-mcp: master.sh must run as a SLURM batch job' >&2; exit 1 ;;",
    'esac',
  ].join('\n');
}

/** The job's log directory, created first: everything after writes there. */
function logSetup(spec: LaunchSpec): string {
  return [
    '# Logs first: SLURM does not create directories, and everything below writes here.',
    'SML_LOG_DIR="logs/${SLURM_JOB_ID}"',
    'mkdir -p "$SML_LOG_DIR"',
    'exec >>"$SML_LOG_DIR/log.out" 2>>"$SML_LOG_DIR/log.err"',
    'echo "sml-mcp job $SLURM_JOB_ID started at $(date -u +%FT%TZ) on $(hostname) in $PWD"',
    '# A requeued job starts over: the health report of its previous run says nothing about this one.',
    'rm -f "$SML_LOG_DIR/replica_health.json" "$SML_LOG_DIR/replica_health.json.tmp" "$SML_LOG_DIR"/replica_*.served',
    `echo ${q(`Served model name: ${spec.servedModelName}`)}`,
  ].join('\n');
}

/** The layout block: which node heads each replica, its port and GPUs (tests read it between its markers). */
function layoutBlock(spec: LaunchSpec): string {
  const topology = spec.topology;
  const placements = placeReplicas(topology);
  return [
    `# ${LAYOUT_BEGIN}: which node (index into the job's node list) heads each replica, its engine port and GPUs.`,
    `total_nodes=${topology.totalNodes}`,
    `nodes_per_replica=${topology.nodesPerReplica}`,
    `replica_head_index=(${placements.map((p) => p.headNodeIndex).join(' ')})`,
    `replica_port=(${placements.map((p) => p.port).join(' ')})`,
    `replica_devices=(${placements.map((p) => (p.devices ? p.devices.join(',') : 'all')).join(' ')})`,
    `opentela_api_port=${spec.opentela.isEnabled ? OPENTELA_API_PORT : 0}`,
    `previous_job_id=${spec.chain.previousJobId ?? "''"}`,
    `# ${LAYOUT_END}`,
    ...(spec.slurm.sharedNodeGpus
      ? [
          '# Other jobs may share this node: move every port by an offset from the job id (sharedPortOffset).',
          'port_offset=$((10000 + SLURM_JOB_ID % 1000 * 10))',
          'for r in "${!replica_port[@]}"; do replica_port[r]=$((replica_port[r] + port_offset)); done',
          `export SML_ROUTER_PORT=$((${spec.router.port} + port_offset))`,
        ]
      : []),
  ].join('\n');
}

/** Pids of the steps, and traps that stop them all when the job ends. */
function cleanupTraps(): string {
  return [
    '# Space-separated step pids of each replica (head, then followers), and its restarts so far.',
    'replica_pids=()',
    'replica_restarts=()',
    'router_pid=',
    'sidecar_pids=()',
    '# shellcheck disable=SC2317  # cleanup runs from the EXIT trap',
    'cleanup() {',
    '  local pid',
    '  # shellcheck disable=SC2068  # replica_pids holds space-separated pids: split on purpose',
    '  for pid in "${sidecar_pids[@]}" ${replica_pids[@]} $router_pid; do',
    '    kill "$pid" 2>/dev/null || true',
    '  done',
    '}',
    'trap cleanup EXIT',
    'trap \'echo "sml-mcp: terminated at $(date -u +%FT%TZ) (scancel, time limit, preemption or chain handover)"; exit 143\' TERM',
    "trap 'exit 130' INT",
  ].join('\n');
}

/** The rank scripts, written where every node (and container) reads them. */
function extractRankScripts(files: Record<string, string>): string {
  const extract = Object.entries(files)
    .map(([name, content]) =>
      heredocWrite(`"$RANKS_DIR/${name}"`, content, name.replace(/\W/g, '_').toUpperCase()),
    )
    .join('\n');
  return [
    '# Rank scripts and helpers, extracted where every node (and container) can read them.',
    'RANKS_DIR="$HOME/.sml/job-${SLURM_JOB_ID}"',
    'mkdir -p "$RANKS_DIR"',
    extract,
    'chmod +x "$RANKS_DIR"/*.sh',
  ].join('\n');
}

/** The node architecture (NCCL's library path depends on it). */
function architectureBlock(): string {
  return [
    'unset SLURM_CPU_BIND SLURM_CPU_BIND_TYPE SLURM_CPU_BIND_LIST SLURM_CPU_BIND_VERBOSE',
    'case "$(uname -m)" in',
    '  aarch64 | arm64)',
    '    SML_ARCH=arm64',
    '    export SP_NCCL_SO_PATH=/usr/lib/aarch64-linux-gnu/',
    '    ;;',
    '  x86_64 | amd64)',
    '    SML_ARCH=amd64',
    '    export SP_NCCL_SO_PATH=/usr/lib/x86_64-linux-gnu/',
    '    ;;',
    '  *)',
    '    echo "Unknown architecture: $(uname -m)" >&2',
    '    exit 1',
    '    ;;',
    'esac',
    'echo "Architecture: $SML_ARCH"',
  ].join('\n');
}

/** The job's nodes, in SLURM's order. */
function nodeListBlock(): string {
  return [
    'mapfile -t nodes < <(scontrol show hostnames "$SLURM_JOB_NODELIST")',
    'if [ "${#nodes[@]}" -lt "$total_nodes" ]; then',
    '  echo "sml-mcp: expected $total_nodes nodes, got ${#nodes[@]}: ${nodes[*]}" >&2',
    '  exit 1',
    'fi',
    'for i in "${!nodes[@]}"; do echo "Node $i: ${nodes[$i]}"; done',
  ].join('\n');
}

/** The address and URL of each replica head. */
function replicaAddressesBlock(): string {
  return [
    '# The address of each replica head: the first one `hostname -i` prints on that node.',
    'discover_ip() {',
    '  local out first',
    '  out=$(srun --overlap --nodes=1 --ntasks=1 --nodelist="$1" hostname -i) || return 1',
    '  read -r first _ <<<"$out" || true',
    '  printf "%s" "$first"',
    '}',
    'declare -A node_ip=()',
    'replica_head_node=()',
    'replica_head_ip=()',
    'replica_url=()',
    'for r in "${!replica_head_index[@]}"; do',
    '  n="${replica_head_index[$r]}"',
    '  if [ -z "${node_ip[$n]:-}" ]; then',
    '    node_ip[$n]="$(discover_ip "${nodes[$n]}")" || true',
    '    if [ -z "${node_ip[$n]}" ]; then',
    '      echo "Error: Could not retrieve IP for replica $r host ${nodes[$n]}" >&2',
    '      exit 1',
    '    fi',
    '  fi',
    '  replica_head_node[r]="${nodes[$n]}"',
    '  replica_head_ip[r]="${node_ip[$n]}"',
    '  replica_url[r]="http://${node_ip[$n]}:${replica_port[$r]}"',
    'done',
    'echo "All replica URLs: ${replica_url[*]}"',
  ].join('\n');
}

/** One srun step per node of every replica, started through start_replica (the supervisor restarts with it). */
function replicaStepsBlock(spec: LaunchSpec): string {
  return [
    '# One step per node: the head of every replica, then the followers of multi-node replicas.',
    '# Steps append to their logs, so a restarted replica keeps the output of its earlier run.',
    'start_replica() {',
    '  local r="$1" n="${replica_head_index[$1]}" k pids',
    indent(
      srunStep(
        spec,
        '${nodes[$n]}',
        'replica_${r}',
        'bash "$RANKS_DIR/head.sh" "$r" "${replica_head_ip[$r]}" "${replica_port[$r]}" "${replica_devices[$r]}"',
      ),
      2,
    ),
    '  pids="$!"',
    '  for ((k = 1; k < nodes_per_replica; k++)); do',
    indent(
      srunStep(
        spec,
        '${nodes[$((n + k))]}',
        'replica_${r}_node${k}',
        'bash "$RANKS_DIR/follower.sh" "$r" "$k" "${replica_head_ip[$r]}"',
      ),
      4,
    ),
    '    pids+=" $!"',
    '  done',
    '  replica_pids[r]="$pids"',
    '}',
    'for r in "${!replica_head_index[@]}"; do',
    '  replica_restarts[r]=0',
    '  start_replica "$r"',
    'done',
  ].join('\n');
}

/** The metrics sidecars: vmagent on the batch node, a DCGM exporter on the other GPU nodes. */
function metricsSidecarsBlock(spec: LaunchSpec): string {
  return [
    '# Metrics sidecars (not critical: their end does not end the job).',
    'bash "$RANKS_DIR/metrics.sh" batch >>"$SML_LOG_DIR/metrics.log" 2>&1 &',
    'sidecar_pids+=("$!")',
    'disown "$!"',
    ...(spec.metrics.isDcgmEnabled
      ? [
          'if [ -e /dev/nvidia0 ]; then',
          '  for ((i = 1; i < total_nodes; i++)); do',
          '    srun --overlap --nodes=1 --ntasks=1 --nodelist="${nodes[$i]}" bash "$RANKS_DIR/metrics.sh" worker >>"$SML_LOG_DIR/metrics.log" 2>&1 &',
          '    sidecar_pids+=("$!")',
          '    disown "$!"',
          '  done',
          'fi',
        ]
      : []),
  ].join('\n');
}

/** The replica health checker, in the background on the batch node. */
function healthCheckerBlock(spec: LaunchSpec): string {
  const checkerEnv = [
    'SML_HEALTH_REPORT_PATH="$SML_LOG_DIR/replica_health.json"',
    'SML_HEALTH_REPLICA_IPS="$(IFS=,; echo "${replica_head_ip[*]}")"',
    'SML_HEALTH_REPLICA_HOSTS="$(IFS=,; echo "${replica_head_node[*]}")"',
    'SML_HEALTH_REPLICA_PORTS="$(IFS=,; echo "${replica_port[*]}")"',
    'SML_HEALTH_NODES_PER_REPLICA="$nodes_per_replica"',
    'SML_HEALTH_OPENTELA_PORT="$opentela_api_port"',
    'SML_HEALTH_PREVIOUS_JOB_ID="$previous_job_id"',
    `SML_HEALTH_FRAMEWORK_PORT=${ENGINE_BASE_PORT}`,
    `SML_HEALTH_INTERVAL=${spec.healthCheck.intervalSeconds}`,
    `SML_HEALTH_STARTUP_INTERVAL=${spec.healthCheck.startupIntervalSeconds}`,
    `SML_HEALTH_TIMEOUT=${spec.healthCheck.timeoutSeconds}`,
    // Behind a router, serving means the router answers too (it starts once every replica does).
    ...(spec.router.isEnabled
      ? [`SML_HEALTH_ROUTER_URL="http://\${replica_head_ip[0]}:${spec.router.port}"`]
      : []),
  ];
  return [
    '# Replica health checker: probes every replica, writes replica_health.json, hands a chain over.',
    'if command -v python3 >/dev/null 2>&1; then',
    `  ${checkerEnv.join(' \\\n    ')} \\`,
    '    python3 "$RANKS_DIR/replica_health_checker.py" >>"$SML_LOG_DIR/replica_health_checker.log" 2>&1 &',
    '  sidecar_pids+=("$!")',
    '  disown "$!"',
    'else',
    '  echo "sml-mcp: python3 not found on the batch node; replica health is not reported" >&2',
    'fi',
  ].join('\n');
}

/** The sglang router in front of every replica, on the first node. */
function routerBlock(spec: LaunchSpec): string {
  return [
    '# sglang router in front of every replica, on the first node.',
    srunStep(spec, '${nodes[0]}', 'router', 'bash "$RANKS_DIR/router.sh" "${replica_url[@]}"'),
    'router_pid="$!"',
    `echo "Router URL: http://\${replica_head_ip[0]}:${routerPortWord(spec).replaceAll('"', '')}"`,
  ].join('\n');
}

/** How to reach the job, then the supervisor that keeps it alive or ends it. */
function supervisionBlock(spec: LaunchSpec): string {
  return [
    'echo "Connect to a node: srun --jobid $SLURM_JOB_ID -w ${nodes[0]} --overlap --pty bash"',
    'echo "Stop this job: scancel $SLURM_JOB_ID"',
    supervisor(spec.healthCheck.replicaRestarts),
  ].join('\n');
}

/**
 * A chain job starts a fixed time after its predecessor starts, and SLURM also starts it when the
 * predecessor was cancelled while queued: then it would run early, overlapping the job before.
 * Such a job (and every later one, through the marker) ends at once and says the chain is broken.
 */
function chainGuard(): string {
  return [
    '# Chain guard: the predecessor must have run (its log exists) and not found the chain broken.',
    'if [ ! -e "logs/${previous_job_id}/log.out" ] || [ -e "logs/${previous_job_id}/chain_broken" ]; then',
    '  echo "sml-mcp: chain broken: job ${previous_job_id} before this one never ran (cancelled while queued?) or ended the chain; this job ends instead of starting early" >&2',
    '  echo "${previous_job_id}" >"$SML_LOG_DIR/chain_broken"',
    '  exit 1',
    'fi',
  ].join('\n');
}

/**
 * Supervision: a replica whose engine (or follower) exits is stopped and restarted in place, up to
 * `maxRestarts` times, while the other replicas keep serving (the health checker reports it, the
 * router skips it). The job ends when the router ends or when no replica is left.
 */
function supervisor(maxRestarts: number): string {
  return [
    `max_restarts=${maxRestarts}`,
    'replicas_left=${#replica_head_index[@]}',
    'rc=0',
    'describe_exit() {',
    '  if (($1 > 128)) && signal=$(kill -l $(($1 - 128)) 2>/dev/null); then',
    '    echo "code $1 (SIG$signal)"',
    '  else',
    '    echo "code $1"',
    '  fi',
    '}',
    'while ((replicas_left > 0)); do',
    '  code=0',
    '  wait -n || code=$?',
    '  if [ -n "$router_pid" ] && ! kill -0 "$router_pid" 2>/dev/null; then',
    '    echo "sml-mcp: the router exited with $(describe_exit "$code") at $(date -u +%FT%TZ); the job ends" >&2',
    '    rc=$code',
    '    break',
    '  fi',
    '  for r in "${!replica_head_index[@]}"; do',
    '    [ -n "${replica_pids[$r]}" ] || continue',
    '    is_down=0',
    '    # shellcheck disable=SC2086  # space-separated pids: split on purpose',
    '    for pid in ${replica_pids[$r]}; do',
    '      kill -0 "$pid" 2>/dev/null || is_down=1',
    '    done',
    '    ((is_down)) || continue',
    '    rc=$code',
    '    echo "sml-mcp: replica $r exited with $(describe_exit "$code") at $(date -u +%FT%TZ); see replica_${r}.err" >&2',
    '    # shellcheck disable=SC2086  # space-separated pids: split on purpose',
    '    for pid in ${replica_pids[$r]}; do',
    '      kill "$pid" 2>/dev/null || true',
    '    done',
    '    # Only a replica that once served is restarted: a start-up failure (OOM, bad path) repeats.',
    '    if [ ! -e "$SML_LOG_DIR/replica_${r}.served" ]; then',
    '      replica_pids[r]=',
    '      replicas_left=$((replicas_left - 1))',
    '      echo "sml-mcp: replica $r failed before it ever served; not restarted; $replicas_left replica(s) left" >&2',
    '    elif ((replica_restarts[r] < max_restarts)); then',
    '      replica_restarts[r]=$((replica_restarts[r] + 1))',
    '      echo "sml-mcp: restarting replica $r in place (restart ${replica_restarts[r]} of $max_restarts)" >&2',
    '      sleep 2',
    '      start_replica "$r"',
    '    else',
    '      replica_pids[r]=',
    '      replicas_left=$((replicas_left - 1))',
    '      echo "sml-mcp: replica $r stays down after $max_restarts restart(s); $replicas_left replica(s) left" >&2',
    '    fi',
    '  done',
    'done',
    'echo "Master finished at $(date -u +%FT%TZ) with code $rc"',
    'exit "$rc"',
  ].join('\n');
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => pad + line)
    .join('\n');
}
