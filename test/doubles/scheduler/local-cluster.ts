import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_CLUSTER_ROOT } from '../../../src/domain/system.js';
import type { InMemoryScheduler } from './index.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

/**
 * Put on an in-memory scheduler what test/cluster/install-local.sh installs under /opt/sml-local:
 * the environment files and the model registry (<vendor>/<model>/config.json from
 * test/cluster/model-configs.json, and a minimal stand-in config for every other catalog model).
 */
export function seedLocalCluster(scheduler: InMemoryScheduler): void {
  const environment = (extra: string) =>
    [
      '# Environment of the local test cluster (runtime none: the host environment, no image).',
      '[env]',
      `PATH = "${LOCAL_CLUSTER_ROOT}/engines/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"`,
      `PYTHONPATH = "${LOCAL_CLUSTER_ROOT}/engines/python"`,
      'NCCL_SOCKET_IFNAME = "eth0"',
      'SGL_ENABLE_JIT_DEEPGEMM = "0"',
      ...(extra ? [extra] : []),
      '',
    ].join('\n');
  scheduler.putFile(`${LOCAL_CLUSTER_ROOT}/env/local.toml`, environment(''));
  for (const failure of ['oom', 'nccl', 'hang'])
    scheduler.putFile(
      `${LOCAL_CLUSTER_ROOT}/env/local-${failure}.toml`,
      environment(`SML_STANDIN_FAIL = "${failure}"`),
    );

  const configs = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'cluster', 'model-configs.json'), 'utf8'))
    .models as Record<string, unknown>;
  const catalog = JSON.parse(readFileSync(join(REPO_ROOT, 'assets', 'models.json'), 'utf8')) as {
    model?: string;
  }[];
  const models = new Map(Object.entries(configs));
  for (const { model } of catalog) {
    if (model && model.split('/').length === 2 && !models.has(model))
      models.set(model, { architectures: ['StandInForCausalLM'], model_type: 'standin' });
  }
  for (const [name, config] of models)
    scheduler.putFile(
      `${LOCAL_CLUSTER_ROOT}/models/${name}/config.json`,
      `${JSON.stringify(config, null, 2)}\n`,
    );
}
