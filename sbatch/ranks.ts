// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file writes bash, where ${...} is bash syntax

import type { LaunchSpec } from '../src/domain/launch-spec.js';
import { ENGINE_BASE_PORT, RAY_HEAD_PORT, SGLANG_DIST_INIT_PORT } from '../src/domain/layout.js';
import { quoteShellExpanding } from '../src/shell.js';
import { blocks, exportLine, q, qa } from './script.js';

/** The rank scripts every node runs (head, follower, router) and the engine command lines they share. */

/** The router's port in a script: fixed, or from master.sh's SML_ROUTER_PORT on a shared node. */
export function routerPortWord(spec: LaunchSpec): string {
  return spec.slurm.sharedNodeGpus ? '"$SML_ROUTER_PORT"' : String(spec.router.port);
}

function gpuVariable(spec: LaunchSpec): string {
  return spec.gpuVendor === 'amd' ? 'ROCR_VISIBLE_DEVICES' : 'CUDA_VISIBLE_DEVICES';
}

const PROXY_VARIABLES = 'http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY';

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

export function renderHead(spec: LaunchSpec): string {
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

export function renderFollower(spec: LaunchSpec): string {
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

export function renderRouter(spec: LaunchSpec): string {
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
export function renderEngine(spec: LaunchSpec): string {
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
