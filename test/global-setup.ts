import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isClusterUp } from './helpers/cluster.js';

/**
 * `npm test` on a fresh machine brings the local SLURM cluster up itself (test/cluster/up.sh is
 * idempotent and fast when it already runs). SML_TEST_NO_CLUSTER=1 skips it (cluster tests then
 * skip, or fail with CI=true).
 */
export default function setup(): void {
  if (process.env.SML_TEST_NO_CLUSTER === '1' || isClusterUp()) return;
  const up = spawnSync(fileURLToPath(new URL('./cluster/up.sh', import.meta.url)), {
    stdio: ['ignore', 2, 2],
  });
  if (up.status !== 0)
    process.stderr.write('test/cluster/up.sh failed: cluster tests will be skipped (or fail with CI=true)\n');
}
