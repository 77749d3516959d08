/**
 * `sml-mcp init`: from flags and variables with no terminal (nothing asked), importing SML's
 * config.yml, and interactively under a pseudo-terminal (tmux), as a person types the answers.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, cliRunner } from '../helpers/cli.js';
import { startTerminal } from '../helpers/tmux.js';

const CREDENTIALS = {
  SML_FIRECREST_CLIENT_ID: 'my-client',
  SML_FIRECREST_CLIENT_SECRET: 'client-secret-123456',
};

function configIn(dir: string) {
  const config = JSON.parse(readFileSync(join(dir, 'mcp.json'), 'utf8'));
  const secretsPath = join(dir, 'secrets.json');
  return {
    config,
    secrets: JSON.parse(readFileSync(secretsPath, 'utf8')),
    secretsMode: statSync(secretsPath).mode & 0o777,
  };
}

/** SML's config.yml: the dump of its wizard tree, secrets left in the keyring. */
const SML_CONFIG = `name: root
type: chain
chain:
  - name: launcher
    type: options
    value: firecrest
    options: [firecrest, slurm]
    branches:
      firecrest:
        name: firecrest
        type: chain
        chain:
          - {name: firecrest_url, type: text, value: "https://f7t.example/v2", default: "https://api.cscs.ch/ml/firecrest/v2"}
          - {name: firecrest_token_uri, type: text, value: "https://auth.example/token"}
          - {name: firecrest_client_id, type: password, value: __keyring__}
          - {name: firecrest_client_secret, type: password, value: __keyring__}
          - {name: cluster_ssh_host, type: text, value: clariden-login}
      slurm: {name: slurm, type: chain, chain: []}
  - name: cscs_api_key
    type: password
    value: __keyring__
`;

describe('sml-mcp init without a terminal', () => {
  it('writes the config and a 0600 secrets file from flags and variables, keeping other settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sml-init-'));
    writeFileSync(
      join(dir, 'mcp.json'),
      JSON.stringify({ http: { port: 9999 }, defaults: { reservation: 'old' } }),
    );
    const result = await cliRunner(dir)(
      [
        'init',
        '--launcher',
        'firecrest',
        '--system',
        'clariden',
        '--partition',
        'debug',
        '--cluster-ssh-host',
        'clariden',
      ],
      { ...CREDENTIALS, SML_SWISSAI_RESEARCH_API_KEY: 'research-key-987654', SML_ACCOUNT: 'a-proj' },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('sml-mcp is configured and ready to use.');
    const { config, secrets, secretsMode } = configIn(dir);
    expect(config.http).toEqual({ port: 9999 });
    expect(config.defaults).toEqual({ system: 'clariden', partition: 'debug', account: 'a-proj' });
    expect(config.systems[0].scheduler).toMatchObject({ kind: 'firecrest', sshHost: 'clariden' });
    expect(secrets).toEqual({ ...CREDENTIALS, SML_SWISSAI_RESEARCH_API_KEY: 'research-key-987654' });
    expect(secretsMode).toBe(0o600);
    expect(readFileSync(join(dir, 'mcp.json'), 'utf8')).not.toMatch(/client-secret|research-key/);
    // The files are what sml-mcp then runs with.
    const shown = await cliRunner(dir)(['config', 'show']);
    expect(shown.stdout).toContain('system: clariden (from file)');
  });

  it('never asks without a terminal: a missing value names its flag and variable', async () => {
    const result = await cliRunner()(['init', '--launcher', 'firecrest', '--system', 'clariden']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /Missing required value: set SML_FIRECREST_CLIENT_ID \(non-interactive mode\)/,
    );
    const noLauncher = await cliRunner()(['init']);
    expect(noLauncher.stderr).toMatch(/Missing required value: pass --launcher/);
  });

  it("imports SML's config.yml; secrets SML kept in the keyring are required again, never guessed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sml-init-import-'));
    writeFileSync(join(dir, 'config.yml'), SML_CONFIG);
    const missing = await cliRunner(dir)(['init', '--import-sml', '--system', 'clariden']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(
      /SML keeps firecrest_client_id in the OS keyring.*Set SML_FIRECREST_CLIENT_ID/s,
    );
    const result = await cliRunner(dir)(['init', '--import-sml', '--system', 'clariden'], CREDENTIALS);
    expect(result.exitCode, result.stderr).toBe(0);
    const { config, secrets } = configIn(dir);
    expect(config.systems[0].scheduler).toEqual({
      kind: 'firecrest',
      url: 'https://f7t.example/v2',
      tokenUri: 'https://auth.example/token',
      sshHost: 'clariden-login',
    });
    expect(secrets).toEqual(CREDENTIALS);
  });
});

describe('sml-mcp init on a terminal', () => {
  it('asks each missing value, hides secrets as they are typed, and writes the files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sml-init-tty-'));
    const terminal = startTerminal(
      `sml-init-${process.pid}`,
      `env -i PATH="$PATH" HOME="${dir}" SML_CONFIG_DIR="${dir}" ${process.execPath} ${CLI} init; echo "INIT-EXIT=$?"; sleep 30`,
    );
    const answer = async (prompt: RegExp, text: string) => {
      await terminal.waitForScreen(prompt);
      terminal.type(text);
    };
    try {
      await answer(/Launcher .*\[firecrest\/slurm\/ssh\]:\s*$/m, 'ssh');
      await answer(/System \(clariden\):\s*$/m, 'local');
      await answer(/SSH host of the login node:\s*$/m, 'login1');
      await answer(/Serving API key .*:\s*$/m, 'typed-secret-4242');
      await answer(/Default partition \(optional\):\s*$/m, 'debug');
      await answer(/Default account \(optional\):\s*$/m, '');
      await answer(/Default reservation \(optional\):\s*$/m, '');
      await terminal.waitForScreen(/INIT-EXIT=\d/);
      const shown = terminal.screen();
      expect(shown).toContain('INIT-EXIT=0');
      expect(shown).not.toContain('typed-secret-4242');
      const { config, secrets, secretsMode } = configIn(dir);
      expect(config.defaults).toEqual({ system: 'local', partition: 'debug' });
      expect(config.systems[0].scheduler).toEqual({ kind: 'ssh', host: 'login1', options: [] });
      expect(secrets).toEqual({ SML_SWISSAI_RESEARCH_API_KEY: 'typed-secret-4242' });
      expect(secretsMode).toBe(0o600);
    } finally {
      terminal.close();
    }
  });
});
