/**
 * The `sml-mcp` command line as a person uses it: the built binary, real arguments, exit codes
 * and one-line errors. Launch, status, logs and cancel on the local cluster: test/e2e/cli.test.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { listModelsTool } from '../../tools/list-models.js';
import { listSystemsTool } from '../../tools/list-systems.js';
import { sizeModelTool } from '../../tools/size-model.js';
import { cliRunner } from '../helpers/cli.js';

const sml = cliRunner();

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

describe('sml-mcp render --out safety', () => {
  const RENDER = [
    '--system',
    'bristen',
    '--model',
    'swiss-ai/Apertus-8B-Instruct-2509',
    '--framework',
    'vllm',
  ];

  it('never writes through a symlink named like a script', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sml-render-link-'));
    const target = join(mkdtempSync(join(tmpdir(), 'sml-render-target-')), 'victim');
    writeFileSync(target, 'precious\n');
    symlinkSync(target, join(out, 'master.sh'));
    const result = await sml(['render', '--out', out, ...RENDER]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.trim()).toMatch(/^\[INVALID_ARGUMENT\] .*master\.sh is a symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect((await sml(['render', '--out', out, '--force', ...RENDER])).exitCode).toBe(1);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
  });

  it('refuses to overwrite different scripts unless --force', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sml-render-again-'));
    writeFileSync(join(out, 'master.sh'), '#!/bin/bash\necho mine\n');
    const refused = await sml(['render', '--out', out, ...RENDER]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^\[CONFLICT\] .*already holds other master\.sh.*--force/);
    expect(readFileSync(join(out, 'master.sh'), 'utf8')).toBe('#!/bin/bash\necho mine\n');
    const forced = await sml(['render', '--out', out, '--force', ...RENDER]);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(readFileSync(join(out, 'master.sh'), 'utf8')).toMatch(/#SBATCH/);
  });

  it('says a file is in the way of the folder instead of reporting a bug', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sml-render-file-')), 'plain');
    writeFileSync(file, 'x');
    for (const out of [file, join(file, 'sub')]) {
      const result = await sml(['render', '--out', out, ...RENDER]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr.trim()).toMatch(/^\[INVALID_ARGUMENT\] --out .*a file is in the way/);
    }
  });
});

describe('sml-mcp config show', () => {
  it('names the bad file and field in one line, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sml-bad-config-'));
    writeFileSync(join(dir, 'mcp.json'), JSON.stringify({ defaults: { system: 5 } }));
    const invalid = await sml(['config', 'show'], { SML_CONFIG_DIR: dir });
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr.trim()).toMatch(
      new RegExp(
        `^sml-mcp: \\[INVALID_ARGUMENT\\] Config file ${join(dir, 'mcp.json')} is invalid: defaults\\.system: `,
      ),
    );
    expect(invalid.stderr).not.toMatch(/\n\s+at /);
    writeFileSync(join(dir, 'mcp.json'), '{\n  "defaults": {,\n}');
    const broken = await sml(['config', 'show'], { SML_CONFIG_DIR: dir });
    expect(broken.exitCode).toBe(2);
    expect(broken.stderr.trim()).toMatch(/is not valid JSON \(line 2, column \d+\)/);
    expect(broken.stderr).not.toMatch(/\n\s+at /);
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

describe("sml-mcp flags come from the tools' input schemas", () => {
  it.each([
    ['size', sizeModelTool, ['model', 'system']],
    ['models', listModelsTool, []],
    ['systems', listSystemsTool, ['system']],
  ] as const)('%s has a flag for every input of its tool', async (command, tool, covered) => {
    const help = await sml([command, '--help']);
    expect(help.exitCode, help.stderr).toBe(0);
    for (const field of Object.keys(tool.input.shape)) {
      if ((covered as readonly string[]).includes(field)) continue;
      expect(help.stdout, field).toContain(`--${field.replaceAll('_', '-')}`);
    }
  });

  it('passes the flags through to the tool: size with kv cache type, parameter count and draft', async () => {
    const result = await sml([
      'size',
      'Qwen/Qwen3-32B',
      '--gpu',
      'H100',
      '--kv-cache-dtype',
      'fp8',
      '--parameter-count',
      '3.28e10',
      '--speculative-decoding',
      '--json',
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const sizing = JSON.parse(result.stdout);
    expect(sizing.target.kv_cache_dtype).toBe('fp8');
    expect(sizing.model.params_source).toBe('parameter_count');
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
      new URL('../../assets/model-configs/Qwen__Qwen3-235B-A22B-Instruct-2507', import.meta.url),
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
