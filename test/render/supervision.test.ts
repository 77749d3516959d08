/**
 * master.sh's supervision and chain guard under real bash: srun, scontrol and hostname are stubs
 * that run each step's command on this machine; the engine is a stub whose behaviour per node the
 * test chooses (die by a signal, exit, or serve until told to stop).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render } from '../../sbatch/render.js';
import { bindPreviousJob, type LaunchRequestInput } from '../../src/domain/launch-spec.js';
import { SystemProfile } from '../../src/domain/system.js';
import { specsFor, systemNamed } from './helpers.js';

const STUBS: Record<string, string> = {
  srun: `#!/bin/bash
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
[ "$1 $2" = "show hostnames" ] && printf '%s\\n' n1 n2
`,
  hostname: `#!/bin/bash
node="\${SML_STUB_NODE:-n0}"
if [ "\${1:-}" = -i ]; then echo "10.0.0.1\${node#n}"; else echo "$node"; fi
`,
  // The engine on node N does what $SML_TEST_DIR/behaviour.N says, one line per start: "kill"
  // (serves, as the health checker marks, then dies by SIGKILL), "exit" (exits 3 before serving),
  // anything else serves until $SML_TEST_DIR/stop exists. Replica r runs on node n<r+1>.
  python3: `#!/bin/bash
[ "\${1:-}" = -m ] || exit 0
node="$SML_STUB_NODE"
starts=$(( $(cat "$SML_TEST_DIR/starts.$node" 2>/dev/null || echo 0) + 1 ))
echo "$starts" >"$SML_TEST_DIR/starts.$node"
action=$(sed -n "\${starts}p" "$SML_TEST_DIR/behaviour.$node" 2>/dev/null)
echo "engine on $node, start $starts: \${action:-serve}" >&2
case "$action" in
  kill) touch "logs/4242/replica_$((\${node#n} - 1)).served"; kill -KILL $$ ;;
  exit) exit 3 ;;
esac
until [ -e "$SML_TEST_DIR/stop" ]; do sleep 0.1; done
`,
};

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sml-supervision-'));
  mkdirSync(join(root, 'bin'));
  for (const [name, body] of Object.entries(STUBS)) {
    writeFileSync(join(root, 'bin', name), body);
    chmodSync(join(root, 'bin', name), 0o755);
  }
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const SYSTEM = SystemProfile.parse({ ...systemNamed('local'), containerRuntime: 'none' });
const TWO_REPLICAS: LaunchRequestInput = {
  model: 'swiss-ai/Apertus-8B-Instruct-2509',
  framework: 'sglang',
  replicas: 2,
  nodes_per_replica: 1,
  time: '00:10:00',
};

/** A job directory with master.sh and the engines' behaviour per node. */
function jobDir(name: string, master: string, behaviour: Record<string, string[]>): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'home'), { recursive: true });
  writeFileSync(join(dir, 'master.sh'), master);
  for (const [node, actions] of Object.entries(behaviour))
    writeFileSync(join(dir, `behaviour.${node}`), `${actions.join('\n')}\n`);
  return dir;
}

function runMaster(dir: string) {
  return execa('bash', ['master.sh'], {
    cwd: dir,
    reject: false,
    timeout: 60_000,
    env: {
      PATH: `${join(root, 'bin')}:${process.env.PATH}`,
      HOME: join(dir, 'home'),
      USER: 'alice',
      SLURM_JOB_ID: '4242',
      SLURM_JOB_NODELIST: 'n[1-2]',
      SML_TEST_DIR: dir,
    },
    extendEnv: false,
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const logOf = (dir: string, file: string) => {
  const path = join(dir, 'logs', '4242', file);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
};

describe('master.sh supervision', () => {
  it('restarts a replica killed by a signal while the other keeps serving, and gives it up after its restarts', async () => {
    const [spec] = specsFor({ ...TWO_REPLICAS, replica_restarts: 1 }, { system: SYSTEM });
    const dir = jobDir('heal', render(spec!)['master.sh'], { n2: ['kill', 'exit'] });
    const master = runMaster(dir);
    await until(() => logOf(dir, 'log.err').includes('stays down'), 'replica 1 to be given up');
    // Replica 0 still serves: the job has not ended.
    expect(master.exitCode).toBeNull();
    expect(readFileSync(join(dir, 'starts.n1'), 'utf8').trim()).toBe('1');
    expect(readFileSync(join(dir, 'starts.n2'), 'utf8').trim()).toBe('2');
    writeFileSync(join(dir, 'stop'), '');
    const result = await master;
    expect(result.exitCode).toBe(0);
    const log = logOf(dir, 'log.err');
    expect(log).toMatch(/replica 1 exited with code 137 \(SIGKILL\)/);
    expect(log).toContain('restarting replica 1 in place (restart 1 of 1)');
    expect(log).toMatch(/replica 1 exited with code 3 at/);
    expect(log).toContain('replica 1 stays down after 1 restart(s); 1 replica(s) left');
    // The replica's own log keeps the output of both of its runs.
    expect(logOf(dir, 'replica_1.err')).toContain('start 1: kill');
    expect(logOf(dir, 'replica_1.err')).toContain('start 2: exit');
  });

  it('does not restart a replica that failed before it ever served', async () => {
    const [spec] = specsFor({ ...TWO_REPLICAS, replicas: 1, replica_restarts: 3 }, { system: SYSTEM });
    const dir = jobDir('never-served', render(spec!)['master.sh'], { n1: ['exit', 'exit'] });
    const result = await runMaster(dir);
    expect(result.exitCode).toBe(3);
    expect(readFileSync(join(dir, 'starts.n1'), 'utf8').trim()).toBe('1');
    expect(logOf(dir, 'log.err')).toContain(
      'replica 0 failed before it ever served; not restarted; 0 replica(s) left',
    );
  });

  it('ends the job when its only replica exits and restarts are off', async () => {
    const [spec] = specsFor({ ...TWO_REPLICAS, replicas: 1, replica_restarts: 0 }, { system: SYSTEM });
    const dir = jobDir('single', render(spec!)['master.sh'], { n1: ['kill'] });
    const result = await runMaster(dir);
    expect(result.exitCode).toBe(137);
    expect(logOf(dir, 'log.err')).toContain('replica 0 stays down after 0 restart(s); 0 replica(s) left');
  });

  it('removes the health report a requeued job left behind', async () => {
    const [spec] = specsFor({ ...TWO_REPLICAS, replicas: 1, replica_restarts: 0 }, { system: SYSTEM });
    const dir = jobDir('requeue', render(spec!)['master.sh'], { n1: ['exit'] });
    mkdirSync(join(dir, 'logs', '4242'), { recursive: true });
    writeFileSync(join(dir, 'logs', '4242', 'replica_health.json'), '{"replicas":[{"health":"HEALTHY"}]}');
    await runMaster(dir);
    expect(existsSync(join(dir, 'logs', '4242', 'replica_health.json'))).toBe(false);
  });
});

describe('master.sh chain guard', () => {
  const [head] = specsFor({ ...TWO_REPLICAS, replicas: 1, replica_restarts: 0 }, { system: SYSTEM });
  const second = bindPreviousJob({ ...head!, chain: { ...head!.chain, index: 1, length: 2 } }, '41');

  it('ends a chain job whose predecessor never ran, and marks the chain broken for the next', async () => {
    const dir = jobDir('broken', render(second)['master.sh'], { n1: ['serve'] });
    const result = await runMaster(dir);
    expect(result.exitCode).toBe(1);
    expect(logOf(dir, 'log.err')).toMatch(/chain broken: job 41 before this one never ran/);
    expect(logOf(dir, 'chain_broken').trim()).toBe('41');
    expect(existsSync(join(dir, 'starts.n1'))).toBe(false);
  });

  it('starts a chain job whose predecessor ran', async () => {
    const dir = jobDir('intact', render(second)['master.sh'], { n1: ['exit'] });
    mkdirSync(join(dir, 'logs', '41'), { recursive: true });
    writeFileSync(join(dir, 'logs', '41', 'log.out'), 'sml-mcp job 41 started\n');
    const result = await runMaster(dir);
    expect(result.exitCode).toBe(3);
    expect(readFileSync(join(dir, 'starts.n1'), 'utf8').trim()).toBe('1');
    expect(logOf(dir, 'log.err')).not.toContain('chain broken');
  });
});
