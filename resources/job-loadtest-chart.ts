import { defineResource, guard, variable } from './define-resource.js';
import { loadtestTemplate, runOfJob } from './job-loadtest.js';
import { LOADTEST_CHART_TEMPLATE, loadtestChartUri } from './uris.js';

export const jobLoadtestChartResource = defineResource({
  name: 'job-loadtest-chart',
  uri: LOADTEST_CHART_TEMPLATE,
  title: 'Load test chart',
  description:
    'SVG chart of one load test: output tokens/s (bars) and p99 time to first token (line) for each step (concurrency level or request rate).',
  mimeType: 'image/svg+xml',
  isSubscribable: false,
  register(mcp, deps) {
    mcp.registerResource(
      this.name,
      loadtestTemplate(deps, LOADTEST_CHART_TEMPLATE, loadtestChartUri, this.mimeType),
      { title: this.title, description: this.description, mimeType: this.mimeType },
      (uri, variables, extra) =>
        guard(deps, uri.href, async () => {
          const runId = await runOfJob(deps, variable(variables.id), variable(variables.run));
          const svg = await deps.loadtests.chart(runId, { signal: extra.signal });
          return { contents: [{ uri: uri.href, mimeType: 'image/svg+xml', text: svg }] };
        }),
    );
  },
});
