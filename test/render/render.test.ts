// biome-ignore-all lint/suspicious/noTemplateCurlyInString: bash ${...} under test
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { render } from '../../sbatch/render.js';
import { SHIPPED_SGLANG_ENV, specsFor, systemNamed } from './helpers.js';

const sbatchLines = (script: string) => script.split('\n').filter((l) => l.startsWith('#SBATCH '));

describe('render', () => {
  it('writes the SML header with our tag, and a chain head that starts now on the cluster clock', () => {
    const [head, second] = specsFor({
      model: 'openai/gpt-oss-120b',
      time: '20:00:00',
      consecutive: true,
      partition: 'debug',
      account: 'a-infra01',
      reservation: 'maint',
      replicas: 2,
    });
    expect(sbatchLines(render(head!)['master.sh'])).toEqual([
      '#SBATCH --job-name=sml_alice_openai_gpt-oss-120b_abc123',
      '#SBATCH --comment=sml-mcp:abc123:0',
      '#SBATCH --account=a-infra01',
      '#SBATCH --partition=debug',
      '#SBATCH --reservation=maint',
      '#SBATCH --time=12:00:00',
      '#SBATCH --nodes=2',
      '#SBATCH --exclusive',
      '#SBATCH --begin=now',
      '#SBATCH --output=sml-%j.slurm.log',
    ]);
    const successor = render(second!)['master.sh'];
    expect(sbatchLines(successor)).toContain('#SBATCH --dependency=after:1000+540');
    expect(sbatchLines(successor)).toContain('#SBATCH --time=11:00:00');
    expect(sbatchLines(successor).some((l) => l.startsWith('#SBATCH --begin'))).toBe(false);
    expect(successor).toContain('previous_job_id=1000');
    const single = render(specsFor({ model: 'openai/gpt-oss-120b' })[0]!)['master.sh'];
    expect(sbatchLines(single).some((l) => /--begin|--dependency/.test(l))).toBe(false);
  });

  it('refuses to render a successor before its predecessor has an id', () => {
    const spec = specsFor({ model: 'openai/gpt-oss-120b', time: '20:00:00', consecutive: true })[1]!;
    const { previousJobId: _, ...chain } = spec.chain;
    expect(() => render({ ...spec, chain })).toThrow(/predecessor's job id/);
  });

  it('renders the files each topology needs', () => {
    const names = (input: Parameters<typeof specsFor>[0], system = systemNamed('clariden')) =>
      Object.keys(render(specsFor(input, { system })[0]!)).sort();
    expect(names({ model: 'openai/gpt-oss-120b' })).toEqual([
      'engine.sh',
      'head.sh',
      'master.sh',
      'metrics.sh',
      'replica_health_checker.py',
    ]);
    expect(
      names({ model: 'Qwen/Qwen3.5-397B-A17B', replicas: 2, router: 'sglang' }, systemNamed('local')),
    ).toEqual([
      'engine.sh',
      'follower.sh',
      'head.sh',
      'master.sh',
      'pre_launch.sh',
      'replica_health_checker.py',
      'router.sh',
    ]);
  });

  it('posts telemetry only to a configured endpoint, as valid JSON', async () => {
    const quiet = render(specsFor({ model: 'openai/gpt-oss-120b', disable_telemetry: true })[0]!)[
      'master.sh'
    ];
    expect(quiet).not.toContain('telemetry');
    const script = render(
      specsFor({
        model: 'openai/gpt-oss-120b',
        telemetry_endpoint: 'https://t.example/launches',
        pre_launch_cmds: `echo "it's" \\\n 'done'`,
      })[0]!,
    )['master.sh'];
    const line = script.split('\n').find((l) => l.startsWith('printf \'{"job_id"'))!;
    const printed = await execa('bash', ['-c', line.replace(/ >"\$RANKS_DIR\/telemetry.json"$/, '')], {
      env: { SLURM_JOB_ID: '77' },
    });
    expect(JSON.parse(printed.stdout)).toMatchObject({
      job_id: '77',
      model_name: 'alice/openai/gpt-oss-120b',
      pre_launch_cmds: `echo "it's" \\\n 'done'`,
      framework_port: 8080,
      ocf_service_port: 8080,
    });
  });

  it('uses the profile runtime: edf environment, pyxis image, apptainer exec, host exports', () => {
    const master = (runtime: 'edf' | 'pyxis' | 'apptainer' | 'none') =>
      render(specsFor({ model: 'openai/gpt-oss-120b' }, { system: systemNamed('clariden', runtime) })[0]!);
    expect(master('edf')['master.sh']).toContain('--environment="$SML_ENV_FILE"');
    expect(master('edf')['head.sh']).not.toContain('NCCL_NET');
    expect(master('pyxis')['master.sh']).toContain('--container-image="$SML_IMAGE"');
    expect(master('apptainer')['master.sh']).toContain('apptainer exec --nv');
    expect(master('none')['master.sh']).not.toContain('SML_IMAGE');
    expect(master('none')['head.sh']).toContain("export NCCL_NET='AWS Libfabric'");
    expect(SHIPPED_SGLANG_ENV.env.NCCL_NET).toBe('AWS Libfabric');
  });

  it('caches a Hugging Face download under HF_HOME (default under $SCRATCH), never naming a token', async () => {
    const [byDefault] = specsFor({ framework: 'vllm', model_path: 'swiss-ai/Apertus-v1.5-8B' });
    const head = render(byDefault!)['head.sh'];
    expect(head).toContain('export HF_HOME="${HF_HOME:-${SCRATCH:-$HOME/.cache}/huggingface}"');
    expect(head).toContain('mkdir -p "$HF_HOME"');
    const [chosen] = specsFor({ framework: 'vllm', model_path: 'a/b', hf_home: '$SCRATCH/my cache' });
    const scripts = render(chosen!);
    expect(scripts['head.sh']).toContain(`export HF_HOME="\${SCRATCH}"'/my cache'`);
    for (const text of Object.values(scripts)) expect(text).not.toMatch(/HF_TOKEN/);
    // Bash turns the chosen value into the path, expanding only the variable.
    const { stdout } = await execa('bash', [
      '-c',
      'SCRATCH=/s; export HF_HOME="${SCRATCH}"\'/my cache\'; echo "$HF_HOME"',
    ]);
    expect(stdout).toBe('/s/my cache');
    const [folder] = specsFor({ framework: 'vllm', model_path: '/m', served_model_name: 'v/m' });
    expect(render(folder!)['head.sh']).not.toContain('HF_HOME');
  });

  it('does not run pre-launch commands in the router step', () => {
    const [spec] = specsFor({
      model: 'swiss-ai/Apertus-8B-Instruct-2509',
      framework: 'sglang',
      replicas: 2,
      router: 'sglang',
      pre_launch_cmds: 'pip install foo',
    });
    const scripts = render(spec!);
    expect(scripts['head.sh']).toContain('pre_launch.sh');
    expect(scripts['router.sh']).not.toContain('pre_launch.sh');
  });
});
