import { describe, expect, it } from 'vitest';
import { ArgparseError, type ArgSpec, formatHelp, parseArgs } from '../../server/commands/argparse.js';
import { ADVANCED_FLAGS } from '../../server/commands/sml.js';

/** Parse as `sml advanced` would; the error message when argparse would refuse. */
function parse(argv: string[], specs: readonly ArgSpec[] = ADVANCED_FLAGS) {
  return parseArgs(argv, specs, 'sml advanced');
}
function refusal(argv: string[], specs: readonly ArgSpec[] = ADVANCED_FLAGS): string {
  try {
    parse(argv, specs);
  } catch (error) {
    if (error instanceof ArgparseError) return error.message;
    throw error;
  }
  throw new Error(`expected ${argv.join(' ')} to be refused`);
}

const REQUIRED = ['--framework', 'sglang', '--environment', 'e.toml'];

describe('argparse-compatible parsing of SML command lines', () => {
  it('fills defaults and takes --opt value and --opt=value', () => {
    const { values, given } = parse([...REQUIRED, '--replicas=3', '--time', '01:00:00']);
    expect(values).toMatchObject({
      framework: 'sglang',
      environment: 'e.toml',
      replicas: 3,
      nodes_per_replica: 1,
      time: '01:00:00',
      handover_time: '03:00:00',
      max_job_time: '12:00:00',
      router: 'opentela',
      framework_args: '',
      consecutive: undefined,
    });
    expect(given).toEqual(['framework', 'environment', 'replicas', 'time']);
  });

  it('resolves unambiguous prefixes, as SML examples rely on (--nodes → --nodes-per-replica)', () => {
    expect(parse([...REQUIRED, '--nodes', '2']).values.nodes_per_replica).toBe(2);
    expect(parse([...REQUIRED, '--nodes=4']).values.nodes_per_replica).toBe(4);
    expect(parse([...REQUIRED, '--serv', 'v/m']).values.served_model_name).toBe('v/m');
    expect(parse(['--framework', 'vllm', '--env', 'x.toml']).values.environment).toBe('x.toml');
    expect(refusal(['--frame', 'vllm'])).toBe(
      'ambiguous option: --frame could match --framework, --framework-args',
    );
  });

  it('refuses an ambiguous prefix, naming every candidate', () => {
    expect(refusal([...REQUIRED, '--no', '2'])).toBe(
      'ambiguous option: --no could match --nodes-per-replica, --no-tui, --no-telemetry',
    );
    expect(refusal([...REQUIRED, '--framework-a', 'x', '--d'])).toMatch(
      /^ambiguous option: --d could match --disable-opentela, --dev, --disable-dcgm-exporter, --disable-metrics$/,
    );
  });

  it('an exact option wins over longer ones it prefixes (--framework vs --framework-args)', () => {
    expect(parse(REQUIRED).values.framework).toBe('sglang');
  });

  it('takes a value starting with - only when it has a space or is a negative number', () => {
    expect(
      parse([...REQUIRED, '--framework-args', '--tp-size 4 --trust-remote-code']).values.framework_args,
    ).toBe('--tp-size 4 --trust-remote-code');
    expect(parse([...REQUIRED, '--framework-args=--trust-remote-code']).values.framework_args).toBe(
      '--trust-remote-code',
    );
    expect(refusal([...REQUIRED, '--framework-args', '--trust-remote-code'])).toBe(
      'argument --framework-args: expected one argument',
    );
    expect(refusal([...REQUIRED, '--replicas'])).toBe('argument --replicas: expected one argument');
    expect(parse([...REQUIRED, '--replicas', '-2']).values.replicas).toBe(-2);
  });

  it('checks ints and choices as argparse does; router is case-insensitive', () => {
    expect(refusal([...REQUIRED, '--replicas', 'two'])).toBe("argument --replicas: invalid int value: 'two'");
    expect(refusal(['--framework', 'tgi', '--environment', 'e'])).toBe(
      "argument --framework: invalid choice: 'tgi' (choose from 'sglang', 'vllm')",
    );
    expect(parse([...REQUIRED, '--router', 'SGLang']).values.router).toBe('sglang');
  });

  it('switches, --x/--no-x toggles, the last repeat wins', () => {
    const { values } = parse([
      ...REQUIRED,
      '--consecutive',
      '--tui',
      '--no-tui',
      '--time',
      '1:00:00',
      '--time',
      '2:00:00',
    ]);
    expect(values).toMatchObject({ consecutive: true, tui: false, time: '2:00:00' });
    expect(refusal([...REQUIRED, '--dev=yes'])).toBe("argument --dev: ignored explicit argument 'yes'");
  });

  it('refuses stray words and unknown options, and names missing required ones', () => {
    expect(refusal([...REQUIRED, 'extra', '--bogus'])).toBe('unrecognized arguments: extra --bogus');
    expect(refusal([...REQUIRED, '--', '--replicas', '2'])).toBe('unrecognized arguments: --replicas 2');
    expect(refusal(['--framework', 'vllm'])).toBe('the following arguments are required: --environment');
  });

  it('answers -h/--help with every option', () => {
    expect(parse(['--help']).isHelp).toBe(true);
    const help = formatHelp('sml advanced', 'x', ADVANCED_FLAGS);
    for (const spec of ADVANCED_FLAGS) expect(help).toContain(spec.flag);
    expect(help).toContain('--tui, --no-tui');
  });
});
