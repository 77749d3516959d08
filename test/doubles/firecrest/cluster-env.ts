import { existsSync } from 'node:fs';
import { execa } from 'execa';

/** The environment after sourcing a shell file such as test/cluster/env.sh (SLURM_CONF and friends). */
export async function loadEnvFile(
  file: string,
  base: NodeJS.ProcessEnv = process.env,
): Promise<NodeJS.ProcessEnv> {
  if (!existsSync(file))
    throw new Error(`${file} does not exist; bring the cluster up with test/cluster/up.sh`);
  const result = await execa('bash', ['-c', 'set -a; source "$1" >/dev/null; env -0', 'load-env', file], {
    env: base,
    extendEnv: false,
  });
  const env: NodeJS.ProcessEnv = {};
  for (const entry of String(result.stdout).split('\0')) {
    const at = entry.indexOf('=');
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return env;
}
