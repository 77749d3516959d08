/**
 * The `sml-mcp` command line as a person uses it: the built binary, real arguments, exit codes
 * and one-line errors. Launch, status, logs and cancel on the local cluster: test/e2e/cli.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../dist/server/cli.js', import.meta.url));
const configDir = mkdtempSync(join(tmpdir(), 'sml-cli-'));

function sml(args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [CLI, ...args], {
    reject: false,
    env: { SML_CONFIG_DIR: configDir, SML_SYSTEM: '', ...env },
    timeout: 300_000,
  });
}

describe('sml-mcp render', () => {
  it('writes executable scripts into the folder, master.sh first', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sml-render-'));
    const result = await sml([
      'render',
      '--out',
      out,
      '--system',
      'bristen',
      '--model',
      'swiss-ai/Apertus-8B-Instruct-2509',
      '--framework',
      'vllm',
      '--replicas',
      '2',
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const listed = result.stdout
      .split('\n')
      .slice(1)
      .map((line) => line.trim());
    expect(listed[0]).toBe('master.sh');
    expect(readdirSync(out).sort()).toEqual([...listed].sort());
    for (const file of listed) expect(statSync(join(out, file)).mode & 0o777).toBe(0o755);
    const master = readFileSync(join(out, 'master.sh'), 'utf8');
    expect(master).toContain('#SBATCH --nodes=2');
    expect(master).toMatch(/\/swiss-ai\/Apertus-8B-Instruct-2509/);
    expect((await execa('bash', ['-n', join(out, 'master.sh')], { reject: false })).exitCode).toBe(0);
  });

  it.each([
    [['--system', 'nowhere', '--model', 'swiss-ai/Apertus-8B-Instruct-2509'], /nowhere/],
    [['--system', 'bristen', '--model', 'nobody/nothing'], /nobody\/nothing.*not in the catalog/],
    [['--system', 'bristen', '--model', 'openai/gpt-oss-120b', '--time', '7 hours'], /7 hours/],
    [['--system', 'bristen', '--model', 'openai/gpt-oss-120b', '--replicas', 'two'], /--replicas.*'two'/],
    [['--system', 'bristen', '--model', 'openai/gpt-oss-120b', '--router', 'sglang'], /replicas/],
  ])('refuses bad input %j with one line naming the value', async (args, pattern) => {
    const result = await sml(['render', '--out', mkdtempSync(join(tmpdir(), 'sml-bad-')), ...args]);
    expect(result.exitCode).not.toBe(0);
    const message = result.stderr.trim().split('\n')[0]!;
    expect(message).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('sml-mcp argument checks', () => {
  it.each([
    [
      ['size', 'x', '--gpu', 'H100', '--system', 'clariden'],
      /^\[INVALID_ARGUMENT\] Give --gpu or --system, not both/,
    ],
    [['status', '--wait', 'serving'], /^\[INVALID_ARGUMENT\] --wait needs job ids/],
  ])('refuses %j as bad input, not as an internal error', async (args, pattern) => {
    const result = await sml(args);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toMatch(pattern);
  });
});

describe('sml-mcp models and size', () => {
  it('lists the catalog as JSON', async () => {
    const result = await sml(['models', '--search', 'Kimi', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed.models.map((m: { model: string }) => m.model)).toEqual(['moonshotai/Kimi-K2.5']);
  });
  it('sizes a model from its config.json for a GPU type, with the fields the issue asks for', async () => {
    const config = fileURLToPath(
      new URL('../fixtures/hf-configs/Qwen__Qwen3-235B-A22B-Instruct-2507', import.meta.url),
    );
    const result = await sml(['size', config, '--gpu', 'GH200', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const sizing = JSON.parse(result.stdout);
    for (const key of [
      'layout',
      'fits',
      'weights_bytes',
      'kv_bytes_per_token',
      'max_context_tokens',
      'framework_args',
      'warnings',
      'explanation',
    ]) {
      expect(sizing).toHaveProperty(key);
    }
    expect(sizing.fits).toBe(true);
    expect(sizing.layout.gpus_per_replica).toBeLessThanOrEqual(8);
  });
});
