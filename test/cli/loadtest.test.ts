/**
 * `sml-mcp loadtest …` as a person types it, and SML's `sml loadtest preconfigured|advanced|run`
 * command lines read as SML reads them (argparse abbreviations, SML's own validation messages).
 * The load tests themselves run on the local cluster in test/e2e/loadtest.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { cliRunner } from '../helpers/cli.js';

const sml = cliRunner();

describe("SML's loadtest command lines", () => {
  it('reject what SML rejects, with SML’s messages and argparse’s exit code 2', async () => {
    const cases: [string[], string][] = [
      [
        ['loadtest', 'run', '--job-id', '5', '--cancel-after-loadtest', '--no-wait-for-loadtest'],
        '--cancel-after-loadtest requires --wait-for-loadtest.',
      ],
      [
        ['loadtest', 'run', '--job-id', '5', '--loadtest-ready-timeout', '0'],
        '--loadtest-ready-timeout must be greater than 0.',
      ],
      // An argparse prefix: --loadtest-job → --loadtest-job-time.
      [
        ['loadtest', 'preconfigured', '--model', 'm', '--loadtest-job', '1:2'],
        '--loadtest-job-time must be in HH:MM:SS format.',
      ],
      [
        ['loadtest', 'run', '--job-id', '5', '--loadtest-scen', 'soak'],
        "Unknown loadtest scenario 'soak'. Available: throughput, ramp, open_loop, open_loop_ramp, open_loop_decode, sweep",
      ],
      [
        ['loadtest', 'run', '--job-id', '5', '--loadtest-server-url', 'https://api.example'],
        '--loadtest-server-url is not supported',
      ],
      [
        ['loadtest', 'advanced', '--framework', 'vllm'],
        'the following arguments are required: --environment',
      ],
    ];
    for (const [args, message] of cases) {
      const result = await sml(args);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(`sml-mcp loadtest ${args[1]}: error: ${message}`);
    }
  });

  it('lists its flags with --help, and answers an unknown job with one line', async () => {
    const help = await sml(['loadtest', 'run', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('--cancel-after-loadtest');
    const unknown = await sml(['loadtest', 'run', '--job-id', '424242', '--no-wait-for-loadtest'], {
      SML_SYSTEM: 'local',
    });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/^\[NOT_FOUND\] Job 424242 has no local launch record/m);
  });
});

describe('sml-mcp loadtest start|show', () => {
  it('refuse a bad level list and an unknown run with one clear line', async () => {
    const levels = await sml(['loadtest', 'start', '12', '--concurrency', '1,x']);
    expect(levels.exitCode).not.toBe(0);
    expect(levels.stderr).toContain("expected whole numbers separated by commas (e.g. 1,4,16), got '1,x'");
    // Every flag reaches the tool as an argument it knows: the job is what is missing.
    const start = await sml(
      [
        'loadtest',
        'start',
        '424242',
        '--scenario',
        'sweep',
        '--concurrency',
        '1,2',
        '--duration-s',
        '5',
        '--prompt-tokens',
        '8',
        '--max-tokens',
        '8',
        '--target-rps',
        '3',
        '--target-p99-ttft-s',
        '1',
      ],
      { SML_SYSTEM: 'local' },
    );
    expect(start.exitCode).toBe(1);
    expect(start.stderr).toMatch(/^\[NOT_FOUND\] Job 424242 has no local launch record/m);
    const cancelAfter = await sml(['loadtest', 'start', '424242', '--cancel-after']);
    expect(cancelAfter.stderr).toContain('--cancel-after needs --wait');
    const run = await sml(['loadtest', 'show', 'lt-0000000000']);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('[NOT_FOUND] No load test lt-0000000000 is recorded here.');
  });
});
