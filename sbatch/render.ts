// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file writes bash, where ${...} is bash syntax
import { readFileSync } from 'node:fs';
import { assetPath } from '../src/assets.js';
import { chainDirectives } from '../src/domain/chain.js';
import { LaunchSpec } from '../src/domain/launch-spec.js';
import {
  DCGM_EXPORTER_PORT,
  ENGINE_BASE_PORT,
  OPENTELA_API_PORT,
  placeReplicas,
  RAY_HEAD_PORT,
  type ReplicaPlacement,
  SGLANG_DIST_INIT_PORT,
} from '../src/domain/layout.js';
import { SmlError } from '../src/errors.js';
import { quoteShellExpanding } from '../src/shell.js';
import { blocks, exportLine, heredocWrite, q, qa } from './script.js';

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

/** Where SLURM writes the batch script's own output (relative to the job's working dir). */
export const SLURM_OUTPUT_PATTERN = 'sml-%j.slurm.log';

/** Markers around master.sh's generated data (numbers only): the layout of the job. */
export const LAYOUT_BEGIN = 'sml-mcp layout';
export const LAYOUT_END = 'end of layout';

let healthCheckerSource: string | undefined;
function readHealthChecker(): string {
  healthCheckerSource ??= readFileSync(assetPath('replica_health_checker.py'), 'utf8');
  return healthCheckerSource;
}

const PROXY_VARIABLES = 'http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY';

// ---------------------------------------------------------------------------------------------
// Shared pieces of the rank scripts

function frameworkExports(spec: LaunchSpec): string[] {
  const lines = ['export no_proxy="0.0.0.0,${no_proxy:-}"', 'export NO_PROXY="0.0.0.0,${NO_PROXY:-}"'];
  if (spec.framework === 'sglang') {
    lines.push(
      exportLine('SGL_ENABLE_JIT_DEEPGEMM', 'false'),
      exportLine('SGLANG_ENABLE_JIT_DEEPGEMM', 'false'),
    );
  } else {
    lines.push(exportLine('RAY_CGRAPH_get_timeout', '1800'));
  }
  return lines;
}

/**
 * The environment file's [env] table: edf applies it itself; every other runtime exports it here,
 * with $NAME / ${NAME} expanded from the job's environment. Then the Hugging Face cache of a
 * model downloaded from the Hub (HF_TOKEN comes from the job's environment, never from a script).
 */
function environmentExports(spec: LaunchSpec): string[] {
  const lines: string[] = [];
  const entries = spec.containerRuntime === 'edf' ? [] : Object.entries(spec.environment.env);
  if (entries.length > 0) {
    lines.push(
      '# [env] of the environment file',
      ...entries.map(([name, value]) => exportLine(name, value, { isExpanding: true })),
    );
  }
  if (spec.huggingFace) {
    lines.push(
      `# ${spec.huggingFace.repoId} is downloaded from the Hugging Face Hub into HF_HOME.`,
      spec.huggingFace.home === undefined
        ? 'export HF_HOME="${HF_HOME:-${SCRATCH:-$HOME/.cache}/huggingface}"'
        : exportLine('HF_HOME', spec.huggingFace.home, { isExpanding: true }),
      'mkdir -p "$HF_HOME"',
    );
  }
  return lines;
}

function rankPrologue(spec: LaunchSpec, role: string, argNames: string[]): string {
  const args = argNames.map((name, i) => `${name}="\${${i + 1}:?usage: ${role}.sh ${argNames.join(' ')}}"`);
  return blocks(
    [
      '#!/bin/bash',
      `# sml-mcp ${role} rank of ${spec.servedModelName.replace(/[^\x20-\x7e]|\n/g, '?')}: generated, do not edit.`,
      'set -euo pipefail',
      ...args,
      'RANKS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
    ].join('\n'),
    [...frameworkExports(spec), ...environmentExports(spec)].join('\n'),
  );
}

const PRE_LAUNCH = [
  'if [ -f "$RANKS_DIR/pre_launch.sh" ]; then',
  "  echo 'Running pre-launch commands...'",
  '  set +u',
  '  # shellcheck source=/dev/null',
  '  source "$RANKS_DIR/pre_launch.sh"',
  '  set -u',
  'fi',
].join('\n');

const OPENTELA_LOCATE = (spec: LaunchSpec): string =>
  [
    'case "$(uname -m)" in',
    '  aarch64 | arm64) otela_arch=arm64 ;;',
    '  x86_64 | amd64) otela_arch=amd64 ;;',
    '  *) echo "Unknown architecture: $(uname -m)" >&2; exit 1 ;;',
    'esac',
    `OPENTELA_BIN=${q(`${spec.opentela.binDir}/${spec.opentela.channel}/otela-`)}"$otela_arch"`,
    '# OpenTela splits --subprocess on whitespace without a shell: the staged command must have none.',
    'case "$RANKS_DIR" in',
    '  *[[:space:]]*) echo "sml-mcp: $RANKS_DIR contains whitespace; OpenTela cannot run the engine from it" >&2; exit 1 ;;',
    'esac',
  ].join('\n');

/** OpenTela labels as `--label key=value` arguments (SML 3.4). */
function opentelaLabels(spec: LaunchSpec): string {
  const staticLabel = (key: string, value: string) => `--label ${q(`${key}=${value}`)}`;
  return [
    `--label "launched_by=\${USER:-${spec.user.replace(/[^A-Za-z0-9._-]/g, '_')}}"`,
    '--label "slurm_job_id=$SLURM_JOB_ID"',
    '--label "slurm_partition=${SLURM_JOB_PARTITION:-unknown}"',
    '--label "worker_group_id=$SLURM_JOB_ID"',
    staticLabel('framework', spec.framework),
    staticLabel('served_model_name', spec.servedModelName),
    staticLabel(
      'framework_args',
      ['--port', String(ENGINE_BASE_PORT), ...spec.engineArgs].join(' ').replace(/\s+/g, ' '),
    ),
    '--label "started_at=$(date -u +%FT%TZ)"',
    `--label "expires_at=$(date -u -d '+${spec.slurm.timeLimitSeconds} seconds' +%FT%TZ)"`,
  ].join(' \\\n  ');
}

/**
 * Run the staged engine command, wrapped by OpenTela when enabled: as the `llm` service on
 * `servicePort` (replica heads without a router, and the router), or metrics-only (followers,
 * heads behind the router). `directWords` are bash words; `stagedWords` is the same inside the
 * double-quoted `--subprocess` string, whose values never contain whitespace (IPs, ports, URLs).
 */
/** The router's port in a script: fixed, or from master.sh's SML_ROUTER_PORT on a shared node. */
function routerPortWord(spec: LaunchSpec): string {
  return spec.slurm.sharedNodeGpus ? '"$SML_ROUTER_PORT"' : String(spec.router.port);
}

function runEngine(
  spec: LaunchSpec,
  directWords: string,
  stagedWords: string,
  servicePort: string | undefined,
): string {
  if (!spec.opentela.isEnabled) return `exec bash "$RANKS_DIR/engine.sh" ${directWords}`;
  const service = servicePort ? ` --service.name llm --service.port ${servicePort}` : '';
  return [
    OPENTELA_LOCATE(spec),
    `exec "$OPENTELA_BIN" start --bootstrap.addr ${q(spec.opentela.bootstrapAddr ?? '')}${service} \\`,
    `  ${opentelaLabels(spec)} \\`,
    `  --subprocess "bash $RANKS_DIR/engine.sh ${stagedWords}"`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Rank scripts

function gpuVariable(spec: LaunchSpec): string {
  return spec.gpuVendor === 'amd' ? 'ROCR_VISIBLE_DEVICES' : 'CUDA_VISIBLE_DEVICES';
}

function renderHead(spec: LaunchSpec): string {
  const isFronted = spec.router.isEnabled;
  return `${blocks(
    rankPrologue(spec, 'head', ['replica', 'replica_head_ip', 'port', 'devices']),
    [
      'echo "sml-mcp: replica $replica head on $(hostname) ($replica_head_ip), engine port $port, GPUs $devices"',
      'if [ "$devices" != all ]; then',
      // SLURM may name the job's own GPUs (a shared node): the replica's indices point into that list.
      `  if [ -n "\${${gpuVariable(spec)}:-}" ]; then`,
      `    IFS=, read -r -a granted <<<"$${gpuVariable(spec)}"`,
      '    mapped=()',
      '    for index in ${devices//,/ }; do mapped+=("${granted[index]:-$index}"); done',
      '    devices="$(IFS=,; echo "${mapped[*]}")"',
      '  fi',
      `  export ${gpuVariable(spec)}="$devices"`,
      'fi',
    ].join('\n'),
    PRE_LAUNCH,
    runEngine(
      spec,
      'head "$replica_head_ip" "$port"',
      'head $replica_head_ip $port',
      isFronted ? undefined : '"$port"',
    ),
  )}\n`;
}

function renderFollower(spec: LaunchSpec): string {
  return `${blocks(
    rankPrologue(spec, 'follower', ['replica', 'node_rank', 'replica_head_ip']),
    'echo "sml-mcp: replica $replica node rank $node_rank on $(hostname), head $replica_head_ip"',
    PRE_LAUNCH,
    runEngine(
      spec,
      'follower "$replica_head_ip" "$node_rank"',
      'follower $replica_head_ip $node_rank',
      undefined,
    ),
  )}\n`;
}

function renderRouter(spec: LaunchSpec): string {
  return `${blocks(
    rankPrologue(spec, 'router', []),
    [
      'if [ "$#" -eq 0 ]; then',
      '  echo "usage: router.sh WORKER_URL..." >&2',
      '  exit 2',
      'fi',
      `unset ${PROXY_VARIABLES}`,
      'echo "sml-mcp: router on $(hostname) for $*"',
      'for url in "$@"; do',
      '  until curl --noproxy "*" -sf -o /dev/null -m 10 "$url/health"; do',
      '    echo "waiting for $url/health"',
      '    sleep 5',
      '  done',
      'done',
    ].join('\n'),
    // Pre-launch commands prepare the engines' nodes; the router step does not run them (as SML).
    runEngine(spec, 'router "$@"', 'router $*', routerPortWord(spec)),
  )}\n`;
}

/**
 * Engine arguments as bash words: $NAME / ${NAME} expand from the job's environment (checked at
 * planning: no command substitution can be in them); the served model name stays literal.
 */
function quoteEngineArgs(args: readonly string[]): string {
  return args
    .map((arg, i) =>
      args[i - 1] === '--served-model-name' || arg.startsWith('--served-model-name=')
        ? q(arg)
        : quoteShellExpanding(arg),
    )
    .join(' ');
}

/** The engine command lines, one per role; dynamic values arrive as arguments. */
function renderEngine(spec: LaunchSpec): string {
  const { nodesPerReplica, gpusPerNode } = spec.topology;
  const args = quoteEngineArgs(spec.engineArgs);
  const isMultiNode = nodesPerReplica > 1;
  const cases: string[] = [];
  if (spec.framework === 'sglang') {
    const dist = (rank: string) =>
      `--dist-init-addr "\${replica_head_ip}:${SGLANG_DIST_INIT_PORT}" --nnodes ${nodesPerReplica} --node-rank ${rank}`;
    cases.push(
      [
        '  head)',
        ...(isMultiNode ? ['    replica_head_ip="$2"'] : []),
        '    port="$3"',
        `    run_engine python3 -m sglang.launch_server ${isMultiNode ? `${dist('0')} ` : ''}--port "$port" ${args}`,
        '    ;;',
      ].join('\n'),
    );
    if (isMultiNode) {
      cases.push(
        [
          '  follower)',
          '    replica_head_ip="$2"',
          '    node_rank="$3"',
          `    run_engine python3 -m sglang.launch_server ${dist('"$node_rank"')} --port ${ENGINE_BASE_PORT} ${args}`,
          '    ;;',
        ].join('\n'),
      );
    }
    if (spec.router.isEnabled) {
      cases.push(
        [
          '  router)',
          '    shift',
          `    run_engine python3 -m sglang_router.launch_router --host 0.0.0.0 --port ${routerPortWord(spec)} --worker-urls "$@"${spec.router.args.length ? ` ${qa(spec.router.args)}` : ''}`,
          '    ;;',
        ].join('\n'),
      );
    }
  } else if (!isMultiNode) {
    cases.push(
      ['  head)', '    port="$3"', `    run_engine vllm serve --port "$port" ${args}`, '    ;;'].join('\n'),
    );
  } else {
    const expectedGpus = nodesPerReplica * gpusPerNode;
    const readiness = `import ray, sys; ray.init(address="auto", logging_level="ERROR"); sys.exit(0 if ray.available_resources().get("GPU", 0) >= ${expectedGpus} else 1)`;
    cases.push(
      [
        '  head)',
        '    port="$3"',
        `    ray start --head --port=${RAY_HEAD_PORT} --num-gpus=${gpusPerNode} --block &`,
        '    ray_pid=$!',
        `    until python3 -c ${q(readiness)} >/dev/null 2>&1; do`,
        '      if ! kill -0 "$ray_pid" 2>/dev/null; then',
        '        echo "sml-mcp: the Ray head exited before the workers joined" >&2',
        '        exit 1',
        '      fi',
        `      echo "sml-mcp: waiting for ${expectedGpus} GPUs in the Ray cluster"`,
        '      sleep 5',
        '    done',
        `    run_engine vllm serve --distributed-executor-backend ray --port "$port" ${args}`,
        '    ;;',
      ].join('\n'),
      [
        '  follower)',
        '    replica_head_ip="$2"',
        `    run_engine ray start --address="\${replica_head_ip}:${RAY_HEAD_PORT}" --num-gpus=${gpusPerNode} --block`,
        '    ;;',
      ].join('\n'),
    );
  }
  return `${[
    '#!/bin/bash',
    '# sml-mcp engine command lines (staged so OpenTela runs them without re-splitting arguments).',
    'set -euo pipefail',
    "# The full command line, variables expanded, goes to the replica log first (as SML's set -x did).",
    'run_engine() {',
    '  echo "sml-mcp: starting: $(printf \'%q \' "$@")"',
    '  exec "$@"',
    '}',
    'case "${1:-}" in',
    ...cases,
    '  *)',
    '    echo "usage: engine.sh head|follower|router ..." >&2',
    '    exit 2',
    '    ;;',
    'esac',
  ].join('\n')}\n`;
}

function renderMetrics(spec: LaunchSpec): string | undefined {
  if (!spec.metrics.isEnabled) return undefined;
  const share = spec.metrics.shareDir!;
  const labels = [
    '-remoteWrite.label="slurm_job_id=$SLURM_JOB_ID"',
    `-remoteWrite.label=${q(`model=${spec.servedModelName}`)}`,
    `-remoteWrite.label=${q(`framework=${spec.framework}`)}`,
    '-remoteWrite.label="user=${SLURM_JOB_USER:-unknown}"',
    '-remoteWrite.label="node=$(hostname)"',
  ].join(' \\\n  ');
  return `${[
    '#!/bin/bash',
    '# sml-mcp metrics sidecars: batch = DCGM (if GPUs) + vmagent scraping the engine; worker = DCGM + vmagent DCGM-only.',
    'set -uo pipefail',
    'role="${1:-batch}"',
    "trap 'kill $(jobs -p) 2>/dev/null; exit 143' TERM",
    'case "$(uname -m)" in',
    '  aarch64 | arm64) arch=arm64 ;;',
    '  *) arch=amd64 ;;',
    'esac',
    `share=${q(share)}`,
    'vmagent_bin="$share/vmagent-$arch"',
    'if [ ! -x "$vmagent_bin" ]; then',
    '  echo "sml-mcp: no metrics agent at $vmagent_bin; metrics disabled" >&2',
    '  exit 0',
    'fi',
    'dcgm=0',
    ...(spec.metrics.isDcgmEnabled
      ? [
          'dcgm_bin="$share/dcgm-exporter-$arch"',
          'if [ -e /dev/nvidia0 ] && [ -x "$dcgm_bin" ]; then',
          `  "$dcgm_bin" --address 0.0.0.0:${DCGM_EXPORTER_PORT} -f "$share/default-counters.csv" >"/tmp/dcgm-exporter-$SLURM_JOB_ID.log" 2>&1 &`,
          '  dcgm=1',
          'fi',
        ]
      : []),
    'if [ "$role" = batch ]; then',
    '  if [ "$dcgm" = 1 ]; then config="$share/vmagent-scrape.yaml"; else config="$share/vmagent-scrape-no-dcgm.yaml"; fi',
    'elif [ "$dcgm" = 1 ]; then',
    '  config="$share/vmagent-scrape-dcgm-only.yaml"',
    'else',
    '  exit 0',
    'fi',
    `"$vmagent_bin" -promscrape.config="$config" -remoteWrite.url=${q(spec.metrics.remoteWriteUrl ?? '')} \\`,
    `  ${labels} \\`,
    '  -remoteWrite.tmpDataPath="/tmp/vmagent-data-$SLURM_JOB_ID" &',
    'wait',
  ].join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// master.sh

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

function renderMaster(spec: LaunchSpec, files: Record<string, string>): string {
  const topology = spec.topology;
  const placements = placeReplicas(topology);
  const extract = Object.entries(files)
    .map(([name, content]) =>
      heredocWrite(`"$RANKS_DIR/${name}"`, content, name.replace(/\W/g, '_').toUpperCase()),
    )
    .join('\n');
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
  const layout = [
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
  ];

  return `${blocks(
    ['#!/bin/bash', sbatchHeader(spec)].join('\n'),
    [
      `# sml-mcp ${spec.version}: ${spec.framework} on ${spec.systemName}, job ${spec.chain.index + 1} of ${spec.chain.length} of launch ${spec.launchId}.`,
      '# Generated: submit with `sbatch --chdir <working dir> master.sh`. Logs: logs/<job id>/ in that directory.',
      'set -euo pipefail',
      'case "${SLURM_JOB_ID:-}" in',
      "  '' | *[!0-9]*) echo 'sml-mcp: master.sh must run as a SLURM batch job' >&2; exit 1 ;;",
      'esac',
    ].join('\n'),
    [
      '# Logs first: SLURM does not create directories, and everything below writes here.',
      'SML_LOG_DIR="logs/${SLURM_JOB_ID}"',
      'mkdir -p "$SML_LOG_DIR"',
      'exec >>"$SML_LOG_DIR/log.out" 2>>"$SML_LOG_DIR/log.err"',
      'echo "sml-mcp job $SLURM_JOB_ID started at $(date -u +%FT%TZ) on $(hostname) in $PWD"',
      '# A requeued job starts over: the health report of its previous run says nothing about this one.',
      'rm -f "$SML_LOG_DIR/replica_health.json" "$SML_LOG_DIR/replica_health.json.tmp"',
      `echo ${q(`Served model name: ${spec.servedModelName}`)}`,
    ].join('\n'),
    layout.join('\n'),
    spec.chain.index > 0 && chainGuard(),
    [
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
    ].join('\n'),
    [
      '# Rank scripts and helpers, extracted where every node (and container) can read them.',
      'RANKS_DIR="$HOME/.sml/job-${SLURM_JOB_ID}"',
      'mkdir -p "$RANKS_DIR"',
      extract,
      'chmod +x "$RANKS_DIR"/*.sh',
    ].join('\n'),
    [
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
    ].join('\n'),
    telemetryBlock(spec, placements),
    containerSetup(spec),
    [
      'mapfile -t nodes < <(scontrol show hostnames "$SLURM_JOB_NODELIST")',
      'if [ "${#nodes[@]}" -lt "$total_nodes" ]; then',
      '  echo "sml-mcp: expected $total_nodes nodes, got ${#nodes[@]}: ${nodes[*]}" >&2',
      '  exit 1',
      'fi',
      'for i in "${!nodes[@]}"; do echo "Node $i: ${nodes[$i]}"; done',
    ].join('\n'),
    [
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
    ].join('\n'),
    [
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
    ].join('\n'),
    spec.metrics.isEnabled &&
      [
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
      ].join('\n'),
    [
      '# Replica health checker: probes every replica, writes replica_health.json, hands a chain over.',
      'if command -v python3 >/dev/null 2>&1; then',
      `  ${checkerEnv.join(' \\\n    ')} \\`,
      '    python3 "$RANKS_DIR/replica_health_checker.py" >>"$SML_LOG_DIR/replica_health_checker.log" 2>&1 &',
      '  sidecar_pids+=("$!")',
      '  disown "$!"',
      'else',
      '  echo "sml-mcp: python3 not found on the batch node; replica health is not reported" >&2',
      'fi',
    ].join('\n'),
    spec.router.isEnabled &&
      [
        '# sglang router in front of every replica, on the first node.',
        srunStep(spec, '${nodes[0]}', 'router', 'bash "$RANKS_DIR/router.sh" "${replica_url[@]}"'),
        'router_pid="$!"',
        `echo "Router URL: http://\${replica_head_ip[0]}:${routerPortWord(spec).replaceAll('"', '')}"`,
      ].join('\n'),
    [
      'echo "Connect to a node: srun --jobid $SLURM_JOB_ID -w ${nodes[0]} --overlap --pty bash"',
      'echo "Stop this job: scancel $SLURM_JOB_ID"',
      supervisor(spec.healthCheck.replicaRestarts),
    ].join('\n'),
  )}\n`;
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
    '    if ((replica_restarts[r] < max_restarts)); then',
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
