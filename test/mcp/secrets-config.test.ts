import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logUri } from '../../resources/uris.js';
import { loadConfig } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/schema.js';
import { createRedactor, REDACTED } from '../../src/config/secrets.js';
import {
  connect,
  createHarness,
  expectToolError,
  expectToolSuccess,
  type Harness,
  submitRecordedJob,
  waitUntilEnded,
} from './harness.js';

const CLIENT_SECRET = 'fc-client-secret-7f3a9d2e41';
const MCP_TOKEN = 'mcp-token-c0ffee1234567890';
const SECRETS = [CLIENT_SECRET, MCP_TOKEN];

describe('secrets given through the environment', () => {
  let harness: Harness;
  let client: Client;
  let jobId: string;

  beforeAll(async () => {
    harness = createHarness({
      env: {
        SML_FIRECREST_CLIENT_ID: 'client-id',
        SML_FIRECREST_CLIENT_SECRET: CLIENT_SECRET,
        SML_MCP_TOKEN: MCP_TOKEN,
      },
    });
    client = await connect(harness.deps);
    // A job that prints a secret into its log, as a misconfigured engine might.
    jobId = await submitRecordedJob(harness, {
      lines: 1,
      intervalS: 0,
      banner: `token=${MCP_TOKEN}`,
      exitCode: 1,
    });
    await waitUntilEnded(client, jobId);
  });

  afterAll(async () => {
    await client.close();
    harness.cleanup();
  });

  function expectNoSecret(value: unknown): void {
    const text = JSON.stringify(value);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  }

  it('never appear in tool results, resources, prompts or errors', async () => {
    const outputs: unknown[] = [];
    const logs = await client.callTool({ name: 'logs', arguments: { job_id: jobId, cursor: 0 } });
    expect(String(expectToolSuccess(logs).text)).toContain(`token=${REDACTED}`);
    outputs.push(logs);
    outputs.push(await client.readResource({ uri: logUri(jobId, 'log.out') }));
    outputs.push(await client.readResource({ uri: `sml://jobs/${jobId}` }));
    outputs.push(await client.getPrompt({ name: 'diagnose_job', arguments: { job_id: jobId } }));
    outputs.push(await client.getPrompt({ name: 'deploy_model', arguments: { model: CLIENT_SECRET } }));

    const unknownSystem = await client.callTool({
      name: 'list_systems',
      arguments: { system: CLIENT_SECRET },
    });
    expectToolError(unknownSystem, 'UNKNOWN_SYSTEM');
    outputs.push(unknownSystem);

    const dryRun = await client.callTool({
      name: 'launch',
      arguments: {
        model_path: '/opt/sml-local/models/HuggingFaceTB/SmolLM3-3B',
        framework: 'sglang',
        served_model_name: `x-${MCP_TOKEN}`,
        system: 'local',
        dry_run: true,
      },
    });
    expect(JSON.stringify(expectToolSuccess(dryRun))).toContain(REDACTED);
    outputs.push(dryRun);
    expectNoSecret(outputs);
  });
});

describe('configuration', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sml-config-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes flags over the environment over the file', () => {
    writeFileSync(
      join(dir, 'mcp.json'),
      JSON.stringify({
        defaults: {
          system: 'bristen',
          partition: 'file-part',
          account: 'file-acct',
          reservation: 'file-res',
        },
      }),
    );
    const config = loadConfig({
      env: { SML_CONFIG_DIR: dir, SML_PARTITION: 'env-part', SML_ACCOUNT: 'env-acct' },
      flags: { account: 'flag-acct' },
    });
    expect(config.defaults).toEqual({
      system: 'bristen',
      partition: 'env-part',
      account: 'flag-acct',
      reservation: 'file-res',
    });
    expect(config.sources).toEqual({
      system: 'file',
      partition: 'env',
      account: 'flag',
      reservation: 'file',
    });
    expect(config.isClusterConfigured).toBe(true);
  });

  it('adds user systems and catalog entries, and names the bad field of an invalid file', () => {
    const own = join(dir, 'own.json');
    writeFileSync(
      own,
      JSON.stringify({
        systems: [
          {
            name: 'mycluster',
            scheduler: { kind: 'ssh', host: 'login.example' },
            gpu: { model: 'H100', memoryGiB: 80, perNode: 8, vendor: 'nvidia' },
            cpuArch: 'x86_64',
            containerRuntime: 'pyxis',
            modelRegistry: '/models',
            defaultEnvironments: { sglang: 'sglang.toml', vllm: 'vllm.toml' },
          },
        ],
        catalog: [{ model: 'acme/Tiny-1B', framework: 'vllm' }],
      }),
    );
    const config = loadConfig({ env: { SML_CONFIG_DIR: dir, SML_MCP_CONFIG: own } });
    expect(config.systems.map((s) => s.name)).toEqual([
      'clariden',
      'bristen',
      'beverin',
      'local',
      'mycluster',
    ]);
    expect(config.userSystemNames).toEqual(['mycluster']);
    expect(config.catalogExtras[0]).toMatchObject({ model: 'acme/Tiny-1B', nodes_per_replica: 1 });

    writeFileSync(own, JSON.stringify({ defaults: { system: 3 } }));
    expect(() => loadConfig({ env: { SML_MCP_CONFIG: own } })).toThrow(/defaults\.system/);
  });

  it('reads secrets from a file only you can read, and refuses one others can read', () => {
    const secrets = join(dir, 'secrets.json');
    writeFileSync(secrets, JSON.stringify({ SML_FIRECREST_CLIENT_SECRET: 'from-the-file-123456' }));
    chmodSync(secrets, 0o644);
    expect(() => loadConfig({ env: { SML_CONFIG_DIR: dir } })).toThrow(
      expect.objectContaining({
        code: 'PERMISSION_DENIED',
        message: expect.stringMatching(/readable by others \(mode 644\)/),
        hint: expect.stringContaining('chmod 600'),
      }),
    );
    chmodSync(secrets, 0o600);
    const config = loadConfig({
      env: { SML_CONFIG_DIR: dir, SML_FIRECREST_CLIENT_SECRET: 'from-the-env-654321' },
    });
    expect(config.credentialEnv().SML_FIRECREST_CLIENT_SECRET).toBe('from-the-env-654321');
    expect(config.redact('a from-the-file-123456 b from-the-env-654321')).toBe(`a ${REDACTED} b ${REDACTED}`);
    expect(JSON.stringify(config)).not.toContain('from-the');
    rmSync(secrets);
  });

  it('publishes a JSON Schema of the file', () => {
    const schema = configJsonSchema() as {
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['defaults', 'systems', 'catalog', 'secretsFile', 'http']),
    );
    expect(schema.additionalProperties).toBe(false);
  });

  it('redacts the longest secret first and ignores short values', () => {
    const redact = createRedactor(['abcdefgh', 'abcdefgh-longer', '12345']);
    expect(redact('x abcdefgh-longer y abcdefgh z 12345')).toBe(`x ${REDACTED} y ${REDACTED} z 12345`);
  });

  it('redacts a secret URL-encoded (query, form body) and JSON-escaped as well as raw', () => {
    const secret = 'p@ss/w0rd+with space&="quote"';
    const redact = createRedactor([secret]);
    const texts = [
      `client_secret=${encodeURIComponent(secret)}&grant_type=client_credentials`,
      new URLSearchParams({ client_id: 'me', client_secret: secret }).toString(),
      JSON.stringify({ client_secret: secret }),
      `raw ${secret} raw`,
    ];
    for (const text of texts) {
      const out = redact(text);
      expect(out).toContain(REDACTED);
      expect(out).not.toContain('w0rd');
    }
  });
});

describe('with nothing configured', () => {
  let harness: Harness;
  let client: Client;

  beforeAll(async () => {
    harness = createHarness({ isUnconfigured: true });
    client = await connect(harness.deps);
  });

  afterAll(async () => {
    await client.close();
    harness.cleanup();
  });

  it('starts, explains itself, lists the catalog and renders dry runs for a named system', async () => {
    expect(client.getInstructions()).toContain('No system is configured yet');
    expectToolSuccess(await client.callTool({ name: 'list_models', arguments: {} }));
    const systems = expectToolSuccess(await client.callTool({ name: 'list_systems', arguments: {} }));
    expect(systems.default_system).toBeNull();
    const dryRun = await client.callTool({
      name: 'launch',
      arguments: {
        model: 'swiss-ai/Apertus-8B-Instruct-2509',
        framework: 'vllm',
        system: 'clariden',
        dry_run: true,
      },
    });
    const review = expectToolSuccess(dryRun).review as {
      sbatch: string[];
      scripts: { name: string; uri: string }[];
    };
    expect(review.sbatch.join('\n')).toContain('#SBATCH --nodes=1');
    const master = review.scripts.find((script) => script.name === 'master.sh')!;
    const { contents } = await client.readResource({ uri: master.uri });
    expect((contents[0] as { text: string }).text).toMatch(/^#!\/bin\/bash\n#SBATCH /);
  });

  it('answers tools that need a cluster with NOT_CONFIGURED and the next step', async () => {
    const result = await client.callTool({ name: 'status', arguments: { job_ids: ['12345'] } });
    expectToolError(result, 'NOT_CONFIGURED');
    expect(JSON.stringify(result)).toContain('SML_SYSTEM');
    expectToolError(
      await client.callTool({
        name: 'launch',
        arguments: { model: 'swiss-ai/Apertus-8B-Instruct-2509', framework: 'vllm' },
      }),
      'NOT_CONFIGURED',
    );
  });
});
