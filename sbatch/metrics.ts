// biome-ignore-all lint/suspicious/noTemplateCurlyInString: this file writes bash, where ${...} is bash syntax
import type { LaunchSpec } from '../src/domain/launch-spec.js';
import { DCGM_EXPORTER_PORT } from '../src/domain/layout.js';
import { q } from './script.js';

/** The metrics sidecars of a job (vmagent on the batch node, a DCGM exporter on every GPU node). */

export function renderMetrics(spec: LaunchSpec): string | undefined {
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
