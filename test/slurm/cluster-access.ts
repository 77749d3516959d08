/** Provisional access to the local cluster until test/helpers/cluster.ts lands. */
import { readFileSync } from 'node:fs';
import { execa } from 'execa';

const ENV_FILE = new URL('../cluster/env.sh', import.meta.url);

function clusterEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of readFileSync(ENV_FILE, 'utf8').matchAll(/^export ([A-Z_]+)=(.*)$/gm)) {
    let value = match[2]!.replace(/^['"]|['"]$/g, '');
    value = value.replace(/\$([A-Z_]+)/g, (_, name: string) => env[name] ?? process.env[name] ?? '');
    env[match[1]!] = value;
  }
  return env;
}

export async function requireCluster(): Promise<void> {
  Object.assign(process.env, clusterEnv());
  const ping = await execa('scontrol', ['ping'], { reject: false });
  if (!/UP/.test(ping.stdout))
    throw new Error(`The local cluster is not up (run test/cluster/up.sh): ${ping.stdout}${ping.stderr}`);
}

export function clusterAccount(): string {
  return clusterEnv().SML_CLUSTER_ACCOUNT ?? 'sml-test';
}

export async function waitFor(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${options.what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
  }
}
