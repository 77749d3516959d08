// biome-ignore-all lint/suspicious/noTemplateCurlyInString: bash ${...} in expected scripts
/**
 * SML users' command lines, written from SML's examples (shared/reference/sml-inventory.md 1.4),
 * run unchanged through `sml-mcp advanced … --output-script DIR`: the #SBATCH lines, and the engine
 * argv and environment that real bash produces from the rendered scripts (engines are stubs that
 * record what they were started with). No cluster needed.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, cliRunner } from '../helpers/cli.js';
import { startTerminal } from '../helpers/tmux.js';

const USER = userInfo().username;
const runCli = cliRunner();

function sml(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { SML_SYSTEM: 'clariden', SML_PARTITION: '', SML_ACCOUNT: '', ...env });
}

/** Render an SML command line; returns the folder and the rendered files. */
async function render(args: string[], env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sml-out-'));
  const result = await sml(['advanced', ...args, '--output-script', dir], env);
  expect(result.exitCode, result.stderr).toBe(0);
  const file = (name: string) => readFileSync(join(dir, name), 'utf8');
  const sbatch = file('master.sh')
    .split('\n')
    .filter((line) => line.startsWith('#SBATCH '))
    .map((line) => line.slice('#SBATCH '.length));
  return { dir, file, sbatch, stderr: result.stderr, stdout: result.stdout };
}

/** The common part of an SML advanced line for a vLLM model folder. */
const VLLM_MODEL = [
  '--framework',
  'vllm',
  '--environment',
  'vllm.toml',
  '--framework-args',
  '--model /capstor/models/m --served-model-name org/m',
];

const RECORDER =
  '#!/bin/bash\nprintf \'%s\\0\' "$(basename "$0")" "$@" >"$SML_TEST_REC.argv"\nenv -0 >"$SML_TEST_REC.env"\n';

/** Run a rendered rank or engine script with recording stubs for the engines; argv and env they got. */
async function runScript(dir: string, script: string, args: string[], env: Record<string, string> = {}) {
  const bin = mkdtempSync(join(tmpdir(), 'sml-bin-'));
  for (const name of ['python3', 'vllm']) {
    writeFileSync(join(bin, name), RECORDER);
    chmodSync(join(bin, name), 0o755);
  }
  const rec = join(bin, 'rec');
  const result = await execa('bash', [join(dir, script), ...args], {
    reject: false,
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: '/home/alice', USER: 'alice', SML_TEST_REC: rec, ...env },
    extendEnv: false,
  });
  expect(result.exitCode, result.stderr).toBe(0);
  const argv = readFileSync(`${rec}.argv`, 'utf8').split('\0').slice(0, -1);
  const environment = Object.fromEntries(
    readFileSync(`${rec}.env`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return { argv, env: environment, stdout: result.stdout };
}

describe('SML command lines through sml-mcp advanced --output-script', () => {
  it('sglang, one node (--nodes abbreviates --nodes-per-replica), SML repo env path, --port 8080 kept from SML', async () => {
    const model = '/capstor/store/cscs/swissai/infra01/hf_models/models/swiss-ai/Apertus-8B-Instruct-2509';
    const out = await render([
      '--partition',
      'normal',
      '--account',
      'a-infra01',
      '--framework',
      'sglang',
      '--environment',
      'src/swiss_ai_model_launch/assets/envs/sglang.toml',
      '--framework-args',
      `--model-path ${model} --served-model-name swiss-ai/Apertus-8B-Instruct-2509 --host 0.0.0.0 --port 8080 --tp-size 4`,
      '--nodes',
      '1',
      '--time',
      '01:00:00',
    ]);
    expect(out.sbatch).toEqual(
      expect.arrayContaining(['--account=a-infra01', '--partition=normal', '--time=01:00:00', '--nodes=1']),
    );
    expect(out.sbatch.some((l) => l.startsWith('--reservation'))).toBe(false);
    expect(out.stderr).toMatch(/using the shipped sglang\.toml/);
    expect(out.stderr).toMatch(/--port 8080.*dropped/);
    expect(out.stderr).toMatch(/^Wrote \d+ file\(s\) to /m);
    const engine = await runScript(out.dir, 'engine.sh', ['head', '10.0.0.1', '8080']);
    expect(engine.argv).toEqual([
      'python3',
      '-m',
      'sglang.launch_server',
      '--port',
      '8080',
      '--model',
      model,
      '--served-model-name',
      `${USER}/swiss-ai/Apertus-8B-Instruct-2509`,
      '--host',
      '0.0.0.0',
      '--tp-size',
      '4',
    ]);
    expect(engine.stdout).toContain(
      `sml-mcp: starting: python3 -m sglang.launch_server --port 8080 --model ${model}`,
    );
    expect(out.file('head.sh')).toContain('export SGLANG_ENABLE_JIT_DEEPGEMM=false');
  });

  it('vLLM serving a Hugging Face repo id with $SCRATCH in its args, defaults from SML_* variables', async () => {
    const out = await render(
      [
        '--framework',
        'vllm',
        '--environment',
        'vllm.toml',
        '--framework-args',
        '--model swiss-ai/Apertus-v1.5-8B --download-dir $SCRATCH/hf-cache --tensor-parallel-size 4',
        '--replicas',
        '2',
        '--disable-opentela',
        '--no-tui',
      ],
      { SML_PARTITION: 'debug', SML_ACCOUNT: 'a-env', SML_RESERVATION: 'r-env' },
    );
    expect(out.sbatch).toEqual(
      expect.arrayContaining([
        '--account=a-env',
        '--partition=debug',
        '--reservation=r-env',
        '--nodes=2',
        '--time=02:00:00',
      ]),
    );
    // Run the replica's rank script (no OpenTela): the engine sees $SCRATCH expanded and HF_HOME set.
    const head = await runScript(out.dir, 'head.sh', ['0', '10.0.0.1', '8080', 'all'], {
      SCRATCH: '/scratch/alice',
    });
    expect(head.argv).toEqual([
      'vllm',
      'serve',
      '--port',
      '8080',
      '--model',
      'swiss-ai/Apertus-v1.5-8B',
      '--host',
      '0.0.0.0',
      '--served-model-name',
      `${USER}/swiss-ai/Apertus-v1.5-8B`,
      '--download-dir',
      '/scratch/alice/hf-cache',
      '--tensor-parallel-size',
      '4',
    ]);
    expect(head.env.HF_HOME).toBe('/scratch/alice/huggingface');
    expect(head.env.RAY_CGRAPH_get_timeout).toBe('1800');
    for (const text of [out.file('master.sh'), out.file('head.sh'), out.file('engine.sh')])
      expect(text).not.toContain('HF_TOKEN');
  });

  it('two 2-node sglang replicas behind the sglang router (--router is case-insensitive)', async () => {
    const out = await render([
      '--framework',
      'sglang',
      '--environment',
      'sglang.toml',
      '--framework-args',
      '--model-path /capstor/models/big --served-model-name org/big --tp 8',
      '--nodes-per-replica',
      '2',
      '--replicas',
      '2',
      '--router',
      'SGLang',
      '--router-args',
      '--policy round_robin',
    ]);
    expect(out.sbatch).toContain('--nodes=4');
    const follower = await runScript(out.dir, 'engine.sh', ['follower', '10.0.0.1', '1']);
    expect(follower.argv.slice(0, 11)).toEqual([
      'python3',
      '-m',
      'sglang.launch_server',
      '--dist-init-addr',
      '10.0.0.1:5757',
      '--nnodes',
      '2',
      '--node-rank',
      '1',
      '--port',
      '8080',
    ]);
    const router = await runScript(out.dir, 'engine.sh', [
      'router',
      'http://10.0.0.1:8080',
      'http://10.0.0.3:8080',
    ]);
    expect(router.argv).toEqual([
      'python3',
      '-m',
      'sglang_router.launch_router',
      '--host',
      '0.0.0.0',
      '--port',
      '30000',
      '--worker-urls',
      'http://10.0.0.1:8080',
      'http://10.0.0.3:8080',
      '--policy',
      'round_robin',
    ]);
  });

  it('a 36 h chain renders its first job at the per-job cap; --dev yields to an explicit bootstrap address', async () => {
    const out = await render([
      ...VLLM_MODEL,
      '--time',
      '36:00:00',
      '--consecutive',
      '--dev',
      '--opentela-bootstrap-addr',
      '/ip4/10.1.2.3/tcp/43905/p2p/QmCustomPeer',
    ]);
    expect(out.sbatch).toContain('--time=12:00:00');
    expect(out.stderr).toMatch(/dev ignored because opentela_bootstrap_addr was given/);
    expect(out.file('head.sh')).toContain('--bootstrap.addr /ip4/10.1.2.3/tcp/43905/p2p/QmCustomPeer');
    expect(out.file('head.sh')).toContain('/opentelabin/prod/otela-');
  });

  it('--dev alone joins the dev peer with the dev binaries, as SML', async () => {
    const out = await render([...VLLM_MODEL, '--dev']);
    expect(out.file('head.sh')).toContain('/ip4/148.187.108.177/');
    expect(out.file('head.sh')).toContain('/opentelabin/dev/otela-');
  });

  it('refuses what SML refuses, with argparse exit code 2, and command substitution with the variable form', async () => {
    const bad = await sml(['advanced', '--framework', 'vllm']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(
      'sml-mcp advanced: error: the following arguments are required: --environment',
    );
    // Without a terminal nothing is asked (SML's non-interactive mode): a missing --model is argparse's error.
    const unasked = await sml(['preconfigured', '--time', '00:05:00']);
    expect(unasked.exitCode).toBe(2);
    expect(unasked.stderr).toContain(
      'sml-mcp preconfigured: error: the following arguments are required: --model',
    );
    const ambiguous = await sml(['advanced', '--n', '2']);
    expect(ambiguous.exitCode).toBe(2);
    expect(ambiguous.stderr).toMatch(/ambiguous option: --n could match --nodes-per-replica/);
    const substitution = await sml([
      'advanced',
      '--framework',
      'vllm',
      '--environment',
      'vllm.toml',
      '--framework-args',
      '--model /m --served-model-name a/b --download-dir /scratch/$(whoami)/hf',
      '--output-script',
      mkdtempSync(join(tmpdir(), 'sml-out-')),
    ]);
    expect(substitution.exitCode).toBe(1);
    expect(substitution.stderr).toMatch(/\$\(whoami\).*Use \$USER instead/s);
  });

  it('telemetry is on for the CSCS systems, said on stderr, and --no-telemetry / SML_TELEMETRY=0 switch it off', async () => {
    const args = VLLM_MODEL;
    const on = await render(args);
    expect(on.stderr).toMatch(
      /Telemetry: Each job posts SML's launch record .* to https:\/\/sml-dev\.swissai\.svc\.cscs\.ch\/launches/,
    );
    expect(on.file('master.sh')).toContain('https://sml-dev.swissai.svc.cscs.ch/launches');
    const flagOff = await render([...args, '--no-telemetry']);
    expect(flagOff.stderr).toMatch(/Telemetry: Not sent \(disable_telemetry\)/);
    expect(flagOff.file('master.sh')).not.toContain('sml-dev.swissai');
    const envOff = await render(args, { SML_TELEMETRY: '0' });
    expect(envOff.stderr).toMatch(/Telemetry: Not sent \(SML_TELEMETRY=0\)/);
    expect(envOff.file('master.sh')).not.toContain('curl');
  });
});

describe('sml-mcp preconfigured on a terminal', () => {
  it('lists the catalog, asks again after an answer it cannot use, and stops cleanly at Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sml-ask-'));
    const terminal = startTerminal(
      `sml-ask-${process.pid}`,
      `env -i PATH="$PATH" HOME="${dir}" SML_CONFIG_DIR="${dir}" SML_SYSTEM=local ${process.execPath} ${CLI} preconfigured --no-tui; echo "SML-EXIT=$?"; sleep 30`,
    );
    try {
      await terminal.waitForScreen(/^\s+\d+\s+swiss-ai\/Apertus-8B-Instruct-2509 \(sglang, vllm\)$/m);
      const [, count] = await terminal.waitForScreen(/Model \[1-(\d+) or a model id\]:\s*$/m);
      terminal.type('no-such/model');
      await terminal.waitForScreen(
        new RegExp(`Give a number from 1 to ${count} or a model id of the list\\.`),
      );
      terminal.interrupt();
      const shown = await terminal.waitForScreen(/SML-EXIT=\d+/);
      expect(shown[0]).toBe('SML-EXIT=1');
      expect(terminal.screen()).toContain('[CANCELLED] Stopped at Ctrl-C: nothing was launched or written.');
    } finally {
      terminal.close();
    }
  });
});
