import { request } from 'undici';
import { BENCH_LAUNCH, localJobService, nodeAddress } from './local-cluster.js';

/**
 * Serving-detection delay: how long after the engine's /health first answers does `status`
 * (polled like `status --wait serving`) say `serving`? Launches a stand-in deployment on the
 * local cluster RUNS times (default 3), polls the engine's /health every 100 ms itself, and prints
 * each delay and their mean. Run: `npm run build && node dist/bench/serving-detection.js [RUNS]`.
 */

const runs = Number(process.argv[2] ?? 3);
const { service } = localJobService();

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  }
}

async function measureOnce(): Promise<number> {
  const launched = await service.launch(BENCH_LAUNCH, {});
  const jobId = launched.job_ids[0]!;
  try {
    let healthAt: number | undefined;
    let healthUrl: string | undefined;
    const watchHealth = (async () => {
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
    if (!wait.reached)
      throw new Error(`job ${jobId} did not reach serving: ${JSON.stringify(wait.statuses[0])}`);
    return (servingAt - healthAt!) / 1000;
  } finally {
    await service.cancel(jobId);
  }
}

const delays: number[] = [];
for (let run = 1; run <= runs; run++) {
  const delay = await measureOnce();
  delays.push(delay);
  process.stdout.write(
    `run ${run}: status said serving ${delay.toFixed(1)} s after /health first answered\n`,
  );
}
const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
process.stdout.write(
  `serving-detection delay over ${runs} runs: mean ${mean.toFixed(1)} s, min ${Math.min(...delays).toFixed(1)} s, max ${Math.max(...delays).toFixed(1)} s\n`,
);
