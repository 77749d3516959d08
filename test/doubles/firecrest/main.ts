/**
 * Run the FirecREST double alone, for manual use:
 *   npm run firecrest-double -- --port 8235 [--home DIR] [--system NAME] [--client-id ID --client-secret S]
 *       [--api-key KEY] [--token-lifetime SECONDS] [--base-path /api/v2] [--max-ops BYTES] [--cluster-env FILE]
 * Credentials default to SML_FIRECREST_CLIENT_ID / SML_FIRECREST_CLIENT_SECRET / SML_FIRECREST_API_KEY.
 * Faults: POST /__admin/faults {"kind":"fail","count":3,"status":503,"path":"/compute/"}; counters: GET /__admin/counters.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadEnvFile } from './cluster-env.js';
import { startFirecrestDouble } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8235' },
    host: { type: 'string', default: '127.0.0.1' },
    home: { type: 'string' },
    system: { type: 'string', default: 'local' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'api-key': { type: 'string', multiple: true },
    'token-lifetime': { type: 'string', default: '300' },
    'base-path': { type: 'string', default: '' },
    'max-ops': { type: 'string' },
    'cluster-env': { type: 'string' },
  },
});

const envFile = values['cluster-env'] ?? 'test/cluster/env.sh';
const slurmEnv =
  values['cluster-env'] !== undefined || (!process.env.SLURM_CONF && existsSync(envFile))
    ? await loadEnvFile(envFile)
    : process.env;
const apiKeys =
  values['api-key'] ?? (process.env.SML_FIRECREST_API_KEY ? [process.env.SML_FIRECREST_API_KEY] : []);

const double = await startFirecrestDouble({
  host: values.host,
  port: Number(values.port),
  home: values.home,
  system: values.system,
  basePath: values['base-path'],
  clientId: values['client-id'] ?? process.env.SML_FIRECREST_CLIENT_ID,
  clientSecret: values['client-secret'] ?? process.env.SML_FIRECREST_CLIENT_SECRET,
  apiKeys,
  tokenLifetimeSeconds: Number(values['token-lifetime']),
  maxOpsFileSize: values['max-ops'] ? Number(values['max-ops']) : undefined,
  slurmEnv,
});

const lines = [
  `FirecREST double for system '${double.system}', user ${double.user}, home ${double.home}`,
  `export SML_FIRECREST_URL=${double.url}`,
  `export SML_FIRECREST_TOKEN_URI=${double.tokenUri}`,
  `export SML_FIRECREST_CLIENT_ID=${double.clientId}   # secret: --client-secret or SML_FIRECREST_CLIENT_SECRET`,
  apiKeys.length > 0 ? `API keys accepted: ${apiKeys.length}` : 'API-key mode off (--api-key KEY to enable)',
  'Ctrl-C stops it.',
];
process.stdout.write(`${lines.join('\n')}\n`);

const stop = async () => {
  await double.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
