/**
 * Shared set-up of the FirecREST tests: a double (jobs on the local cluster) and a backend
 * pointed at it with short timeouts, so fault tests finish in seconds.
 */
import { request } from 'undici';
import {
  createFirecrestScheduler,
  type FirecrestAuth,
  type FirecrestScheduler,
  type FirecrestSchedulerOptions,
} from '../../src/scheduler/firecrest/index.js';
import {
  type FirecrestDouble,
  type FirecrestDoubleOptions,
  startFirecrestDouble,
} from '../doubles/firecrest/index.js';
import { clusterEnv, waitFor } from '../helpers/cluster.js';

export async function startDouble(options: FirecrestDoubleOptions = {}): Promise<FirecrestDouble> {
  return startFirecrestDouble({ slurmEnv: { ...process.env, ...clusterEnv() }, ...options });
}

export function clientCredentials(double: FirecrestDouble): FirecrestAuth {
  return {
    kind: 'client-credentials',
    tokenUri: double.tokenUri,
    clientId: double.clientId,
    clientSecret: double.clientSecret,
  };
}

/** A backend for `double` with test-sized timeouts (overridable). */
export function backendFor(
  double: FirecrestDouble,
  overrides: Partial<FirecrestSchedulerOptions> = {},
): FirecrestScheduler {
  return createFirecrestScheduler({
    url: double.url,
    system: double.system,
    auth: clientCredentials(double),
    timeouts: { requestMs: 10_000, retryBudgetMs: 20_000 },
    backoff: { baseDelayMs: 20, maxDelayMs: 400 },
    ...overrides,
  });
}

/** A bearer token from the double's token endpoint (for raw contract requests). */
export async function fetchToken(double: FirecrestDouble): Promise<string> {
  const response = await request(double.tokenUri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: double.clientId,
      client_secret: double.clientSecret,
    }).toString(),
  });
  const body = (await response.body.json()) as { access_token: string };
  return body.access_token;
}

/** A small batch script for the local cluster. */
export function sleepScript(seconds: number, extra = ''): string {
  return `#!/bin/bash\n#SBATCH --job-name=sml_fc_test\n#SBATCH --time=00:05:00\n#SBATCH --output=slurm-%j.out\n${extra}echo started\nsleep ${seconds}\necho done\n`;
}

/**
 * Wait until the backend lists every job: right after a submit SLURM shows a nameless placeholder
 * row for a moment, which the backend leaves out (and then looks the job up by id).
 */
export async function waitUntilListed(backend: FirecrestScheduler, jobIds: string[]): Promise<void> {
  await waitFor(async () => (await backend.statuses(jobIds)).size === jobIds.length, {
    timeoutMs: 10_000,
    what: `jobs ${jobIds.join(', ')} listed`,
  });
}
