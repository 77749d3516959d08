import { loadUndici } from '../libraries.js';
import { parsePrometheusText, summarizeEngineMetrics } from './prometheus.js';
import type { Endpoint, MetricsSnapshotView } from './types.js';

/** Each replica engine's figures from its Prometheus /metrics, or why they could not be read from this machine. */
export function collectEngineFigures(
  endpoints: readonly Endpoint[],
  signal?: AbortSignal,
): Promise<MetricsSnapshotView['replicas']> {
  return Promise.all(
    endpoints
      .filter((e) => e.kind === 'replica')
      .map(async (endpoint) => {
        const url = endpoint.url.replace(/\/v1$/, '/metrics');
        const empty = { replica: endpoint.replica ?? 0, url, ...summarizeEngineMetrics([]) };
        try {
          const { request } = await loadUndici();
          const response = await request(url, {
            headersTimeout: 3000,
            bodyTimeout: 3000,
            signal,
          });
          const body = await response.body.text();
          if (response.statusCode !== 200)
            return { ...empty, reachable: false, error: `HTTP ${response.statusCode}` };
          return {
            ...empty,
            ...summarizeEngineMetrics(parsePrometheusText(body)),
            reachable: true,
            error: null,
          };
        } catch (error) {
          return {
            ...empty,
            reachable: false,
            error: `not reachable from this machine: ${(error as Error).message}`,
          };
        }
      }),
  );
}
