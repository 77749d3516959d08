// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is bash syntax under test here
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../sbatch/render.js';
import type { EnvironmentFile } from '../../src/catalog/environment.js';
import type { LaunchRequestInput } from '../../src/domain/launch-spec.js';
import { sharedPortOffset } from '../../src/domain/layout.js';
import { type ContainerRuntime, SystemProfile } from '../../src/domain/system.js';
import type { SmlError } from '../../src/errors.js';
import { SHIPPED_SGLANG_ENV, specsFor, systemNamed } from './helpers.js';

/**
 * Hostile values (quotes, spaces, $(), backticks, newlines, ;, globs, non-ASCII) go through the
 * renderer, and master.sh runs under real bash with srun, scontrol, hostname, python3, vllm,
 * apptainer, curl, scancel, sbatch and the OpenTela binary replaced by recording stubs. The argv
 * each engine receives must equal the intended argv byte for byte. In engine arguments, the model
 * path and [env] values, `$NAME` / `${NAME}` expand from the job's environment (nothing else
 * does); `$(…)` and backticks are refused there before anything is rendered.
 */

const HOSTILE = `it's "quoted" $(touch /tmp/sml-pwned) \`touch /tmp/sml-pwned2\`; rm -rf * ~ é模型 \\ $HOME`;
const HOSTILE_NAME = `it's "quoted" $(touch sml-pwned) \`id\`; rm -rf * ~ é模型 \\ $HOME`;
/** For the fields that expand run-time variables: $HOME and ${USER} expand, `$1`, `$ ` and `$$` do not. */
const EXPANDING = `it's "quoted"; rm -rf * ~ é模型 \\ $HOME/\${USER}x $1 $$ $ end`;
const expanded = (value: string, home: string): string =>
  value.replaceAll('$HOME', home).replaceAll('${USER}', 'alice');
const SERVED = `vendor/${HOSTILE_NAME}\nsecond line`;
const MODEL_PATH = `/models/${EXPANDING}/\nweights dir`;
const USER_ARGS = [
  '--json-config',
  `{"a": "b c", "d": 'x;y', "e": "*"}`,
  '--hostile',
  EXPANDING,
  '--newline',
  'line1\nline2',
  '--glob',
  '*',
  '--semicolon',
  'a;b',
  '--empty',
  '',
  '--unicode',
  'Grüße 🚀',
];
const PRE_LAUNCH = [
  `printf '%s\\n' "pre-launch: it's \\$(not run) \\\`not run\\\`; *" >>"$SML_TEST_REC/pre_launch_ran"`,
  `echo "second command; é" >>"$SML_TEST_REC/pre_launch_ran"`,
].join('\n');
const PRE_LAUNCH_OUTPUT = "pre-launch: it's $(not run) `not run`; *\nsecond command; é\n";
const ENV_TABLE = {
  A_QUOTE: `it's "x"`,
  A_DOLLAR: '; * $HOME ${USER}',
  A_NL: 'line1\nline2',
  A_UTF: 'Grüße 🚀',
};
const MOUNTS = [`/data/with space/it's:/mnt/"q" $(x)`, '/plain'];

const PWNED = ['/tmp/sml-pwned', '/tmp/sml-pwned2', '/tmp/sml-pwned3'];
let root: string;

const STUBS: Record<string, string> = {
  // Runs the step's command like srun: options (all --opt or --opt=value) first, then the command.
  srun: `#!/bin/bash
rec="$SML_TEST_REC/srun.$$.$RANDOM"; printf '%s\\0' "$@" >"$rec"
out=/dev/stdout; err=/dev/stderr
while [ $# -gt 0 ] && [ "\${1#-}" != "$1" ]; do
  case "$1" in
    --output=*) out="\${1#--output=}" ;;
    --error=*) err="\${1#--error=}" ;;
    --nodelist=*) export SML_STUB_NODE="\${1#--nodelist=}" ;;
  esac
  shift
done
exec "$@" >>"$out" 2>>"$err"
`,
  scontrol: `#!/bin/bash
[ "$1 $2" = "show hostnames" ] && printf '%s\\n' n1 n2 n3 n4
`,
  hostname: `#!/bin/bash
node="\${SML_STUB_NODE:-n0}"
if [ "\${1:-}" = -i ]; then echo "10.0.0.1\${node#n} fe80::1"; else echo "$node"; fi
`,
  // An engine: records argv and selected environment, then waits until every expected engine
  // started, so the master's teardown cannot race the others. Behind a router the router leaves
  // first and the engines only after it: master.sh ends a job whose router exited (code 0), but
  // reads engines that exit while the router still runs as replicas failing before they served.
  // (Before, whichever exit `wait -n` reaped first decided the job's exit code: a flaky test.)
  engine: `#!/bin/bash
name="$(basename "$0")"
if [ "$name" = python3 ] && [ "\${1:-}" != -m ]; then
  printf '%s\\0' "$@" >"$SML_TEST_REC/other.$$.$RANDOM"; exit 0
fi
base="$SML_TEST_REC/engine.$$.$RANDOM"
{ for v in A_QUOTE A_DOLLAR A_NL A_UTF CUDA_VISIBLE_DEVICES; do printf '%s=%s\\0' "$v" "\${!v-<unset>}"; done; } >"$base.env"
printf '%s\\0' "$name" "$@" >"$base.tmp" && mv "$base.tmp" "$base.argv"
for _ in $(seq 1 600); do
  [ "$(find "$SML_TEST_REC" -name 'engine.*.argv' | wc -l)" -ge "$SML_TEST_EXPECTED_ENGINES" ] && break
  sleep 0.1
done
if [ "\${1:-}" = -m ] && [ "\${2:-}" = sglang_router.launch_router ]; then
  touch "$SML_TEST_REC/router.exited"; exit 0
fi
if grep -lq sglang_router "$SML_TEST_REC"/engine.*.argv 2>/dev/null; then
  for _ in $(seq 1 100); do [ -e "$SML_TEST_REC/router.exited" ] && break; sleep 0.1; done
  sleep 1
fi
exit 0
`,
  // OpenTela splits --subprocess on whitespace and runs it without a shell: so does this stub.
  otela: `#!/bin/bash
printf '%s\\0' "$@" >"$SML_TEST_REC/otela.$$.$RANDOM"
sub=""
while [ $# -gt 0 ]; do
  if [ "$1" = --subprocess ]; then sub="$2"; fi
  shift
done
read -r -a words <<<"$sub"
exec "\${words[@]}"
`,
  apptainer: `#!/bin/bash
printf '%s\\0' "$@" >"$SML_TEST_REC/apptainer.$$.$RANDOM"
shift # exec
while [ $# -gt 0 ]; do
  case "$1" in
    --bind | --pwd) shift 2 ;;
    --nv | --rocm) shift ;;
    *) shift; break ;; # the image
  esac
done
exec "$@"
`,
  curl: `#!/bin/bash
rec="$SML_TEST_REC/curl.$$.$RANDOM"; printf '%s\\0' "$@" >"$rec"
for a in "$@"; do case "$a" in @*) cp "\${a#@}" "$rec.body" ;; esac; done
exit 0
`,
  scancel: `#!/bin/bash
printf '%s\\0' "$@" >"$SML_TEST_REC/scancel.$$.$RANDOM"
`,
  sbatch: `#!/bin/bash
printf '%s\\0' "$@" >"$SML_TEST_REC/sbatch.$$.$RANDOM"
`,
};

function writeStub(dir: string, name: string, body: string): void {
  writeFileSync(join(dir, name), body);
  chmodSync(join(dir, name), 0o755);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sml-hostile-'));
  for (const f of PWNED) rmSync(f, { force: true });
  const bin = join(root, 'bin');
  mkdirSync(bin);
  for (const [name, body] of Object.entries(STUBS))
    if (name !== 'engine' && name !== 'otela') writeStub(bin, name, body);
  writeStub(bin, 'python3', STUBS.engine!);
  writeStub(bin, 'vllm', STUBS.engine!);
  mkdirSync(join(root, 'images'));
  writeFileSync(imagePath(), 'not really an image');
  for (const channel of ['prod', 'dev']) {
    mkdirSync(join(root, 'opentelabin', channel), { recursive: true });
    for (const arch of ['amd64', 'arm64'])
      writeStub(join(root, 'opentelabin', channel), `otela-${arch}`, STUBS.otela!);
  }
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const argvOf = (path: string): string[] => readFileSync(path, 'utf8').split('\0').slice(0, -1);

interface Run {
  rec: string;
  engines: { argv: string[]; env: Record<string, string> }[];
  recordsOf(prefix: string): string[][];
  logs: string;
}

async function runMaster(
  name: string,
  request: LaunchRequestInput,
  runtime: ContainerRuntime,
  expectedEngines: number,
  environment: EnvironmentFile,
  options: { clusterPath?: string; expectedExitCode?: number } = {},
): Promise<Run> {
  const base = systemNamed('local');
  const system = SystemProfile.parse({
    ...base,
    containerRuntime: runtime,
    opentela: { ...base.opentela!, binDir: join(root, 'opentelabin') },
  });
  // The stub engines exit once all started: with restarts, master.sh would start them again.
  const [spec] = specsFor(
    { replica_restarts: 0, ...request },
    {
      system,
      environment,
      clusterPath: options.clusterPath ?? '/envs/hostile env.toml',
    },
  );
  const scripts = render(spec!);
  const dir = join(root, name);
  const [home, work, rec] = ['home', 'work', 'rec'].map((d) => join(dir, d)) as [string, string, string];
  for (const d of [home, work, rec]) mkdirSync(d, { recursive: true });
  writeFileSync(join(work, 'master.sh'), scripts['master.sh']);
  const result = await execa('bash', ['master.sh'], {
    cwd: work,
    reject: false,
    timeout: 120_000,
    env: {
      PATH: `${join(root, 'bin')}:${process.env.PATH}`,
      HOME: home,
      USER: 'alice',
      SLURM_JOB_ID: '4242',
      SLURM_JOB_NODELIST: 'n[1-4]',
      SML_TEST_REC: rec,
      SML_TEST_EXPECTED_ENGINES: String(expectedEngines),
    },
    extendEnv: false,
  });
  const logDir = join(work, 'logs', '4242');
  const logs = existsSync(logDir)
    ? readdirSync(logDir)
        .map((f) => `--- ${f}\n${readFileSync(join(logDir, f), 'utf8')}`)
        .join('\n')
    : '(no logs)';
  expect(result.exitCode, `master.sh exit code:\n${result.stderr}\n${logs}`).toBe(
    options.expectedExitCode ?? 0,
  );
  const files = readdirSync(rec);
  const engines = files
    .filter((f) => f.startsWith('engine.') && f.endsWith('.argv'))
    .map((f) => {
      const env = Object.fromEntries(
        argvOf(join(rec, f.replace(/\.argv$/, '.env'))).map((kv) => [
          kv.slice(0, kv.indexOf('=')),
          kv.slice(kv.indexOf('=') + 1),
        ]),
      );
      return { argv: argvOf(join(rec, f)), env };
    });
  return {
    rec,
    engines,
    logs,
    recordsOf: (prefix) =>
      files
        .filter((f) => f.startsWith(`${prefix}.`) && !f.endsWith('.body'))
        .map((f) => argvOf(join(rec, f))),
  };
}

const imagePath = (): string => join(root, 'images', `it's "img" $(x).sqsh`);

const hostileEnvironment = (runtime: ContainerRuntime): EnvironmentFile => ({
  image: runtime === 'none' ? undefined : imagePath(),
  mounts: MOUNTS,
  workdir: '/work dir/é',
  env: ENV_TABLE,
  annotations: {},
});

describe('hostile input runs byte for byte', () => {
  const namespaced = `alice/${SERVED}`;
  /** The engine arguments after --port, with run-time variables expanded for a job whose HOME is `home`. */
  const tailFor = (home: string | undefined) =>
    ['--model', MODEL_PATH, '--host', '0.0.0.0', '--served-model-name', namespaced, ...USER_ARGS].map(
      (arg, i) => (home === undefined || i === 5 ? arg : expanded(arg, home)),
    );
  const envFor = (home: string) =>
    Object.fromEntries(Object.entries(ENV_TABLE).map(([k, v]) => [k, expanded(v, home)]));
  const homeOf = (name: string) => join(root, name, 'home');

  it('sglang, 2 replicas × 2 nodes behind the sglang router, OpenTela and telemetry on (host environment)', async () => {
    const run = await runMaster(
      'sglang',
      {
        model_path: MODEL_PATH,
        served_model_name: SERVED,
        framework: 'sglang',
        replicas: 2,
        nodes_per_replica: 2,
        router: 'sglang',
        // Router arguments are never expanded: even $(…) and $HOME reach the router literally.
        router_args: ['--policy', HOSTILE],
        framework_args: USER_ARGS,
        pre_launch_cmds: PRE_LAUNCH,
        telemetry_endpoint: 'https://telemetry.example/launches?x=1&y=2',
      },
      'none',
      5,
      hostileEnvironment('none'),
    );
    const engines = run.engines.map((e) => e.argv);
    const engineTail = tailFor(homeOf('sglang'));
    const head = (ip: string) => [
      'python3',
      '-m',
      'sglang.launch_server',
      '--dist-init-addr',
      `${ip}:5757`,
      '--nnodes',
      '2',
      '--node-rank',
      '0',
      '--port',
      '8080',
      ...engineTail,
    ];
    const follower = (ip: string) => [...head(ip).slice(0, 8), '1', '--port', '8080', ...engineTail];
    const router = [
      'python3',
      '-m',
      'sglang_router.launch_router',
      '--host',
      '0.0.0.0',
      '--port',
      '30000',
      '--worker-urls',
      'http://10.0.0.11:8080',
      'http://10.0.0.13:8080',
      '--policy',
      HOSTILE,
    ];
    expect(engines).toHaveLength(5);
    expect(engines).toContainEqual(head('10.0.0.11'));
    expect(engines).toContainEqual(head('10.0.0.13'));
    expect(engines).toContainEqual(follower('10.0.0.11'));
    expect(engines).toContainEqual(follower('10.0.0.13'));
    expect(engines).toContainEqual(router);
    // The environment file's [env] table reaches every engine unchanged (runtime none exports it).
    for (const engine of run.engines) expect(engine.env).toMatchObject(envFor(homeOf('sglang')));
    // Pre-launch commands ran as written on every node (4), not in the router step.
    const ranLines = readFileSync(join(run.rec, 'pre_launch_ran'), 'utf8').split('\n').sort();
    expect(ranLines).toEqual(PRE_LAUNCH_OUTPUT.repeat(4).split('\n').sort());
    // OpenTela: the router is the llm service; labels carry the exact served name.
    const otela = run.recordsOf('otela');
    expect(otela).toHaveLength(5);
    const service = otela.filter((argv) => argv.includes('--service.name'));
    expect(service).toHaveLength(1);
    expect(service[0]).toEqual(expect.arrayContaining(['--service.port', '30000']));
    for (const argv of otela) expect(argv).toContain(`served_model_name=${namespaced}`);
    // Telemetry: valid JSON with the exact values.
    const telemetry = readdirSync(run.rec).filter((f) => f.endsWith('.body'));
    expect(telemetry).toHaveLength(1);
    const payload = JSON.parse(readFileSync(join(run.rec, telemetry[0]!), 'utf8'));
    expect(payload).toMatchObject({ job_id: '4242', model_name: namespaced, pre_launch_cmds: PRE_LAUNCH });
    expect(payload.framework_args).toBe(['--port', '8080', ...tailFor(undefined)].join(' '));
    // Nothing was executed from the hostile values.
    for (const f of ['/tmp/sml-pwned', '/tmp/sml-pwned2', '/tmp/sml-pwned3'])
      expect(existsSync(f)).toBe(false);
    // The health checker was started with python3 and the replica addresses.
    expect(run.recordsOf('other').some((argv) => argv[0]?.endsWith('replica_health_checker.py'))).toBe(true);
  });

  it('vLLM, 3 replicas packed on one node, each on its own GPU and port, OpenTela on (apptainer)', async () => {
    const run = await runMaster(
      'vllm-packed',
      {
        model_path: MODEL_PATH,
        served_model_name: SERVED,
        framework: 'vllm',
        replicas: 3,
        gpus_per_replica: 1,
        framework_args: USER_ARGS,
      },
      'apptainer',
      3,
      hostileEnvironment('apptainer'),
    );
    const engineTail = tailFor(homeOf('vllm-packed'));
    const byPort = new Map(run.engines.map((e) => [e.argv[3], e]));
    // apptainer systems share nodes and 3 of 4 GPUs leave one free: ports carry the job's offset.
    const ports = [0, 1, 2].map((slot) => String(8080 + sharedPortOffset('4242') + slot));
    expect([...byPort.keys()].sort()).toEqual(ports);
    for (const [slot, port] of ports.entries()) {
      const engine = byPort.get(port)!;
      expect(engine.argv).toEqual(['vllm', 'serve', '--port', port, ...engineTail]);
      expect(engine.env.CUDA_VISIBLE_DEVICES).toBe(String(slot));
      // apptainer exports nothing itself here: the rank script exported the [env] table.
      expect(engine.env).toMatchObject(envFor(homeOf('vllm-packed')));
    }
    const apptainer = run.recordsOf('apptainer');
    expect(apptainer).toHaveLength(3);
    for (const argv of apptainer) {
      expect(argv.slice(0, 2)).toEqual(['exec', '--nv']);
      expect(argv).toEqual(expect.arrayContaining(['--bind', MOUNTS[0], '--bind', '/plain:/plain']));
      expect(argv).toEqual(expect.arrayContaining(['--pwd', '/work dir/é', imagePath()]));
    }
    for (const argv of run.recordsOf('otela')) {
      expect(argv).toContain(`served_model_name=${namespaced}`);
      expect(argv).toContain('--service.port');
    }
  });

  it('pyxis passes image, mounts and workdir as single srun arguments', async () => {
    const run = await runMaster(
      'pyxis',
      {
        model_path: MODEL_PATH,
        served_model_name: SERVED,
        framework: 'vllm',
        replicas: 1,
        disable_opentela: true,
        framework_args: USER_ARGS,
      },
      'pyxis',
      1,
      hostileEnvironment('pyxis'),
    );
    expect(run.engines.map((e) => e.argv)).toEqual([
      ['vllm', 'serve', '--port', '8080', ...tailFor(homeOf('pyxis'))],
    ]);
    const step = run.recordsOf('srun').find((argv) => argv.includes('--container-writable'))!;
    const home = join(root, 'pyxis', 'home');
    const ranks = `${home}/.sml/job-4242`;
    expect(step).toContain(`--container-image=${imagePath()}`);
    expect(step).toContain(`--container-mounts=${ranks}:${ranks},${MOUNTS[0]},/plain:/plain`);
    expect(step).toContain('--container-workdir=/work dir/é');
  });

  it('edf resolves {arch} into an absolute per-arch environment file and passes it to every step', async () => {
    const envDir = join(root, 'edf-env');
    mkdirSync(envDir, { recursive: true });
    const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
    writeFileSync(join(root, 'images', `img-${arch}.sqsh`), '');
    const clusterPath = join(envDir, 'with {arch}.toml');
    writeFileSync(clusterPath, `image = "${join(root, 'images')}/img-{arch}.sqsh"\n`);
    const run = await runMaster(
      'edf',
      {
        model_path: MODEL_PATH,
        served_model_name: SERVED,
        framework: 'vllm',
        disable_opentela: true,
        framework_args: USER_ARGS,
      },
      'edf',
      1,
      { ...hostileEnvironment('edf'), image: `${join(root, 'images')}/img-{arch}.sqsh` },
      { clusterPath },
    );
    expect(run.engines.map((e) => e.argv)).toEqual([
      ['vllm', 'serve', '--port', '8080', ...tailFor(homeOf('edf'))],
    ]);
    const resolved = join(root, 'edf', 'work', `env_resolved_4242_${arch}.toml`);
    expect(readFileSync(resolved, 'utf8')).toBe(`image = "${join(root, 'images')}/img-${arch}.sqsh"\n`);
    const step = run.recordsOf('srun').find((argv) => argv.includes('--container-writable'))!;
    expect(step).toContain(`--environment=${resolved}`);
  });

  it('fails fast, naming the path, when the container image is missing', async () => {
    const clusterPath = join(root, 'edf-env', 'missing.toml');
    mkdirSync(join(root, 'edf-env'), { recursive: true });
    writeFileSync(clusterPath, 'image = "/nonexistent/img-{arch}.sqsh"\n');
    const run = await runMaster(
      'edf-missing',
      { model_path: MODEL_PATH, served_model_name: SERVED, framework: 'vllm', disable_opentela: true },
      'edf',
      1,
      { ...hostileEnvironment('edf'), image: '/nonexistent/img-{arch}.sqsh' },
      { clusterPath, expectedExitCode: 1 },
    );
    expect(run.logs).toMatch(/Container image not found: \/nonexistent\/img-(amd64|arm64)\.sqsh/);
    expect(run.engines).toEqual([]);
  });
});

describe('run-time variables: only $NAME and ${NAME}, never commands', () => {
  const base = { model_path: '/models/m', served_model_name: 'v/m', framework: 'vllm' as const };

  it.each([
    ['$(whoami)', /\$\(whoami\).*Use \$USER instead/s],
    ['--download-dir=/scratch/`whoami`/hf', /`whoami`.*Use \$USER instead/s],
    ['$(date +%s)', /\$\(date \+%s\).*\$NAME or \$\{NAME\}/s],
    ['${SCRATCH:-/tmp}/hf', /\$\{SCRATCH:-\/tmp\}.*plain \$\{NAME\}/s],
  ])('refuses %s in framework_args with the variable form to use', (arg, pattern) => {
    const attempt = () => specsFor({ ...base, framework_args: ['--download-dir', arg] });
    expect(attempt).toThrow(/framework_args contains/);
    try {
      attempt();
    } catch (error) {
      const failure = error as SmlError;
      expect(failure.code).toBe('INVALID_ARGUMENT');
      expect(`${failure.message} ${failure.hint}`).toMatch(pattern);
    }
  });

  it('refuses command substitution in model_path and in exported [env] values, not in edf ones', () => {
    expect(() => specsFor({ ...base, model_path: '/models/$(id)' })).toThrow(/model_path contains \$\(id\)/);
    const env = { ...SHIPPED_SGLANG_ENV, env: { X: 'a `id` b' } };
    const local = systemNamed('local');
    expect(() => specsFor(base, { system: local, environment: env })).toThrow(/\[env\] of .* contains `id`/);
    // The CSCS container engine applies [env] itself: sml-mcp does not export it.
    expect(() => specsFor(base, { environment: env })).not.toThrow();
  });

  it('expands from the job environment in real bash, without splitting or globbing', async () => {
    const [spec] = specsFor(
      { ...base, framework_args: ['--download-dir', '$SCRATCH/hf', '--label', '${USER}-*-$UNSET_OK'] },
      { system: systemNamed('local') },
    );
    const engine = render(spec!)['engine.sh'];
    const dir = mkdtempSync(join(tmpdir(), 'sml-vars-'));
    try {
      writeFileSync(join(dir, 'engine.sh'), engine);
      writeStub(dir, 'vllm', '#!/bin/bash\nprintf \'%s\\0\' "$@" >"$REC"\n');
      writeFileSync(join(dir, 'a-b-c'), ''); // a glob of * would match this
      const result = await execa('bash', ['engine.sh', 'head', '10.0.0.1', '8080'], {
        cwd: dir,
        reject: false,
        env: {
          PATH: `${dir}:${process.env.PATH}`,
          SCRATCH: '/scratch/with space',
          USER: 'a b',
          UNSET_OK: '',
          REC: join(dir, 'argv'),
        },
        extendEnv: false,
      });
      expect(result.exitCode, result.stderr).toBe(0);
      const argv = readFileSync(join(dir, 'argv'), 'utf8').split('\0').slice(0, -1);
      expect(argv.slice(-4)).toEqual(['--download-dir', '/scratch/with space/hf', '--label', 'a b-*-']);
      // The full command line, expanded, is echoed before the engine starts.
      expect(result.stdout).toContain('sml-mcp: starting: vllm serve --port 8080 --model /models/m');
      expect(result.stdout).toContain('/scratch/with\\ space/hf');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
