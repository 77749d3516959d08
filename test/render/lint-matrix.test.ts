import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { LAYOUT_BEGIN, LAYOUT_END } from '../../sbatch/master.js';
import { render } from '../../sbatch/render.js';
import type { LaunchRequestInput } from '../../src/domain/launch-spec.js';
import type { ContainerRuntime } from '../../src/domain/system.js';
import { specsFor, systemNamed } from './helpers.js';

/**
 * Every combination of framework × replicas × nodes per replica × router × OpenTela × telemetry ×
 * container runtime × packing renders scripts that pass `bash -n` and shellcheck. Identical
 * scripts are checked once, and shellcheck runs on batches of files, two processes at a time.
 */

// Allow-list (kept short; master.sh also has one inline, commented directive for its EXIT trap):
const SHELLCHECK_EXCLUDES = [
  // Values (served names, args, JSON) are single-quoted on purpose so `$` and backticks stay literal.
  'SC2016',
];

/**
 * What shellcheck sees of a script depends only on its code, not on literal data: the bodies of
 * the quoted heredocs (rank scripts, checked as files of their own) and their delimiters, the
 * telemetry JSON (one single-quoted literal), the numbers of the layout block, and comments
 * (except shellcheck directives) are replaced by placeholders, so equal code is checked once.
 */
function codeShapeOf(script: string): string {
  const out: string[] = [];
  let delimiter: string | undefined;
  let isInLayout = false;
  for (const line of script.split('\n')) {
    if (delimiter !== undefined) {
      if (line === delimiter) {
        out.push('placeholder', '__SML_EOF__');
        delimiter = undefined;
      }
      continue;
    }
    if (line.includes(LAYOUT_BEGIN)) isInLayout = true;
    if (line.includes(LAYOUT_END)) isInLayout = false;
    const heredoc = /^(.*<<)'(__SML_[A-Za-z0-9_]+__)'$/.exec(line);
    const telemetry =
      /^(printf '\{"job_id":"%s",%s\\n' "\$SLURM_JOB_ID" ).*( >"\$RANKS_DIR\/telemetry\.json")$/.exec(line);
    const layoutValue = isInLayout ? /^([a-z_]+)=(\(?)/.exec(line) : null;
    if (heredoc) {
      delimiter = heredoc[2];
      out.push(`${heredoc[1]}'__SML_EOF__'`);
    } else if (telemetry) out.push(`${telemetry[1]}'"x":1}'${telemetry[2]}`);
    else if (layoutValue) out.push(`${layoutValue[1]}=${layoutValue[2] ? '(0)' : '0'}`);
    else if (/^\s*#(?!!| shellcheck)/.test(line)) out.push('#');
    else out.push(line);
  }
  return out.join('\n');
}

interface Combination {
  label: string;
  request: LaunchRequestInput;
  runtime: ContainerRuntime;
}

function combinations(): Combination[] {
  const result: Combination[] = [];
  for (const framework of ['sglang', 'vllm'] as const)
    for (const replicas of [1, 2, 3])
      for (const nodesPerReplica of [1, 2, 4])
        for (const router of ['opentela', 'sglang'] as const)
          for (const isOpentelaOn of [true, false])
            for (const isTelemetryOn of [true, false])
              for (const runtime of ['edf', 'pyxis', 'apptainer', 'none'] as const)
                for (const isPacked of [false, true]) {
                  // Invalid by design (refused with a clear error, tested elsewhere).
                  if (router === 'sglang' && (framework === 'vllm' || replicas < 2)) continue;
                  if (isPacked && nodesPerReplica > 1) continue;
                  result.push({
                    label: `${framework} r${replicas} n${nodesPerReplica} ${router} otela=${isOpentelaOn} tel=${isTelemetryOn} ${runtime}${isPacked ? ' packed' : ''}`,
                    runtime,
                    request: {
                      model_path: '/capstor/models/vendor/Model-8B',
                      served_model_name: 'vendor/Model-8B',
                      framework,
                      replicas,
                      nodes_per_replica: nodesPerReplica,
                      gpus_per_replica: isPacked ? 1 : undefined,
                      router,
                      disable_opentela: !isOpentelaOn,
                      telemetry_endpoint: isTelemetryOn ? 'https://telemetry.example/launches' : undefined,
                      framework_args: '--enable-metrics --max-running-requests 64',
                      pre_launch_cmds: 'echo "preparing $(hostname)"',
                    },
                  });
                }
  return result;
}

const workDir = mkdtempSync(join(tmpdir(), 'sml-lint-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function shellcheckBatches(files: string[]): Promise<string> {
  const batches: string[][] = [];
  for (let i = 0; i < files.length; i += 20) batches.push(files.slice(i, i + 20));
  const outputs: string[] = [];
  const runBatch = async (batch: string[]) => {
    const excludes = SHELLCHECK_EXCLUDES.length ? [`--exclude=${SHELLCHECK_EXCLUDES.join(',')}`] : [];
    // No `-s bash`: every file must name its shell (shebang or directive), as shellcheck needs on its own (SC2148).
    const result = await execa('shellcheck', ['-f', 'gcc', ...excludes, ...batch], {
      reject: false,
    });
    if (result.exitCode !== 0) outputs.push(result.stdout || result.stderr);
  };
  for (let i = 0; i < batches.length; i += 2) await Promise.all(batches.slice(i, i + 2).map(runBatch));
  return outputs.join('\n');
}

describe('rendered scripts lint matrix', () => {
  const cases = combinations();
  const uniqueFiles = new Map<string, { path: string; origin: string }>();
  const uniqueShapes = new Map<string, { path: string; origin: string }>();

  it(`renders every valid combination (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThan(400);
    for (const combination of cases) {
      const system = systemNamed('clariden', combination.runtime);
      const specs = specsFor({ ...combination.request, time: '01:00:00' }, { system });
      const scripts = render(specs[0]!);
      expect(Object.keys(scripts)).toContain('master.sh');
      expect('follower.sh' in scripts).toBe((combination.request.nodes_per_replica ?? 1) > 1);
      expect('router.sh' in scripts).toBe(combination.request.router === 'sglang');
      for (const [name, content] of Object.entries(scripts)) {
        if (!name.endsWith('.sh')) continue;
        const digest = createHash('sha256').update(content).digest('hex').slice(0, 16);
        if (uniqueFiles.has(digest)) continue;
        const path = join(workDir, `${digest}-${name}`);
        writeFileSync(path, content);
        const origin = `${combination.label}: ${name}`;
        uniqueFiles.set(digest, { path, origin });
        const shape = createHash('sha256').update(codeShapeOf(content)).digest('hex').slice(0, 16);
        if (!uniqueShapes.has(shape)) uniqueShapes.set(shape, { path, origin });
      }
    }
  });

  it('every script passes bash -n', { timeout: 120_000 }, async () => {
    const paths = [...uniqueFiles.values()].map((f) => f.path);
    const half = Math.ceil(paths.length / 2);
    const results = await Promise.all(
      [paths.slice(0, half), paths.slice(half)].map((chunk) =>
        execa(
          'bash',
          ['-c', 'for f in "$@"; do bash -n "$f" 2>&1 || echo "bash -n failed: $f"; done', 'lint', ...chunk],
          {
            reject: false,
          },
        ),
      ),
    );
    const result = { stdout: results.map((r) => r.stdout).join('') };
    expect(result.stdout).toBe('');
  });

  it('every script passes shellcheck with no warnings', { timeout: 180_000 }, async () => {
    const files = [...uniqueShapes.values()];
    console.warn(`lint matrix: ${uniqueFiles.size} distinct scripts, ${files.length} distinct code shapes`);
    const output = await shellcheckBatches(files.map((f) => f.path));
    const explained = output
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const file = files.find((f) => line.startsWith(f.path));
        return file ? `${file.origin}: ${line.slice(file.path.length)}` : line;
      });
    expect(explained).toEqual([]);
  });
});
