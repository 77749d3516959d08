/**
 * An environment file that exists only on the cluster (SML's `/capstor/…/vllm.toml`): a dry run
 * reads it through the Scheduler when the system can be reached, and otherwise renders anyway
 * with a warning that the file is read on the cluster.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { LaunchResultView } from '../../src/jobs/types.js';
import { connect, createHarness, expectToolError, expectToolSuccess, type Harness } from './harness.js';

const harnesses: Harness[] = [];
afterEach(() => {
  for (const harness of harnesses.splice(0)) harness.cleanup();
});

async function dryRun(harness: Harness, args: Record<string, unknown>) {
  harnesses.push(harness);
  const client = await connect(harness.deps);
  try {
    return await client.callTool({ name: 'launch', arguments: { ...args, dry_run: true } });
  } finally {
    await client.close();
  }
}

const ON_CLUSTER = '/capstor/store/cscs/swissai/infra01/envs/vllm.toml';
const TINY = {
  model_path: '/opt/sml-local/models/test/tiny',
  framework: 'vllm',
  served_model_name: 'test/tiny',
};

describe('environment files on the cluster, in a dry run', () => {
  it('renders for a system it cannot reach, saying the file is read on the cluster', async () => {
    // clariden without FirecREST credentials: no way to read the file from here.
    const result = expectToolSuccess(
      await dryRun(createHarness(), { ...TINY, system: 'clariden', environment: ON_CLUSTER }),
    ) as unknown as LaunchResultView;
    expect(result.warnings[0]).toMatch(
      new RegExp(
        `Environment file ${ON_CLUSTER} is not on this machine and clariden could not be asked \\(.*\\); it is read on the cluster when the job starts`,
      ),
    );
    expect(result.warnings.join('\n')).not.toMatch(/names no image/);
    expect(result.review!.environment.join('\n')).toContain(ON_CLUSTER);
  });

  it('reads it through the scheduler when the system answers: its [env] reaches the scripts', async () => {
    const harness = createHarness();
    harness.memory!.putFile('/cluster/envs/mine.toml', '[env]\nMY_SETTING = "from-the-cluster"\n');
    const result = expectToolSuccess(
      await dryRun(harness, { ...TINY, environment: '/cluster/envs/mine.toml' }),
    ) as unknown as LaunchResultView;
    expect(result.warnings.join('\n')).not.toMatch(/read on the cluster/);
    expect(result.review!.environment.join('\n')).toContain('MY_SETTING');
  });

  it('refuses a path that exists neither here nor on the cluster, and renders when the cluster is down', async () => {
    const missing = await dryRun(createHarness(), { ...TINY, environment: '/cluster/envs/none.toml' });
    expectToolError(missing, 'NOT_FOUND');
    const down = createHarness();
    down.memory!.setUnreachable(true);
    const result = expectToolSuccess(
      await dryRun(down, { ...TINY, environment: '/cluster/envs/mine.toml' }),
    ) as unknown as LaunchResultView;
    expect(result.warnings[0]).toMatch(/could not be asked .*read on the cluster when the job starts/);
  });
});
