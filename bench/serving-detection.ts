import { request } from 'undici';
import { BENCH_LAUNCH, localJobService, nodeAddress } from './local-cluster.js';

/**
 * Serving-detection delay: how long after the engine's /health first answers does `status`
 * (polled like `status --wait serving`, every 2 s) say `serving`? Launches a stand-in deployment
 * on the local cluster RUNS times (default 3) per setting, polls the engine's /health every 100 ms
 * itself, and prints each delay and their mean: with the health checker probing every second while
 * the engines start (now), and every 5 s (before). Needs the local cluster.
 * Run: `npm run build && node dist/bench/serving-detection.js [RUNS]`.
 */

const runs = Number(process.argv[2] ?? 3);

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  }
}

async function measureOnce(service: ReturnType<typeof localJobService>['service']): Promise<number> {
  const launched = await service.launch(BENCH_LAUNCH, {});
  const jobId = launched.job_ids[0]!;
  try {
    let healthAt: number | undefined;
    const watchHealth = (async () => {
      let healthUrl: string | undefined;
      while (healthAt === undefined) {
        if (!healthUrl) {
          const [view] = await service.status([jobId]);
          if (view?.phase === 'ended') throw new Error(`job ${jobId} ended before serving`);
          if (view?.nodes[0]) healthUrl = `http://${nodeAddress(view.nodes[0])}:8080/health`;
        } else if (await isHealthy(healthUrl)) {
          healthAt = Date.now();
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const wait = await service.waitFor([jobId], 'serving', { timeoutS: 300 });
    const servingAt = Date.now();
    await watchHealth;
    if (!wait.reached) throw new Error(`job ${jobId} did not reach serving`);
    return (servingAt - healthAt!) / 1000;
  } finally {
    await service.cancel(jobId);
  }
}

async function measure(label: string, startupIntervalS: number | undefined): Promise<void> {
  const { service } = localJobService({
    pollIntervalMs: 2000,
    rewrite: (scripts) =>
      startupIntervalS === undefined
        ? scripts
        : {
            ...scripts,
            'master.sh': scripts['master.sh'].replace(
              /SML_HEALTH_STARTUP_INTERVAL=\d+/,
              `SML_HEALTH_STARTUP_INTERVAL=${startupIntervalS}`,
            ),
          },
  });
  const delays: number[] = [];
  for (let run = 1; run <= runs; run++) delays.push(await measureOnce(service));
  const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
  process.stdout.write(
    `${label}: serving seen ${delays.map((d) => d.toFixed(1)).join(', ')} s after /health first answered (mean ${mean.toFixed(1)} s)\n`,
  );
}

await measure('before (checker probes every 5 s until serving)', 5);
await measure('now (checker probes every 1 s until serving)', undefined);
