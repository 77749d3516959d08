import { describe, expect, it } from 'vitest';
import { assertNoManagedOptions, splitShellWords, toArgv } from '../../src/domain/framework-args.js';

describe('splitShellWords', () => {
  it('splits on whitespace and respects quotes', () => {
    expect(splitShellWords(`--tp 4  --json '{"a": 1}' --name "x y"\t--z`)).toEqual([
      '--tp',
      '4',
      '--json',
      '{"a": 1}',
      '--name',
      'x y',
      '--z',
    ]);
  });

  it('expands nothing', () => {
    expect(splitShellWords('$HOME $(id) `id` *.py #x ~')).toEqual([
      '$HOME',
      '$(id)',
      '`id`',
      '*.py',
      '#x',
      '~',
    ]);
  });

  it('handles escapes like a shell', () => {
    expect(splitShellWords(String.raw`a\ b "c\"d" 'e\f' "g\h" \$x`)).toEqual([
      'a b',
      'c"d',
      String.raw`e\f`,
      String.raw`g\h`,
      '$x',
    ]);
    expect(splitShellWords('a \\\nb')).toEqual(['a', 'b']);
    expect(splitShellWords(`'' ""`)).toEqual(['', '']);
  });

  it('refuses an unterminated quote or a lone trailing backslash', () => {
    expect(() => splitShellWords(`--a 'b`)).toThrow(/unterminated ' quote/);
    expect(() => splitShellWords(`--a "b`)).toThrow(/unterminated " quote/);
    expect(() => splitShellWords('--a \\')).toThrow(/backslash/);
  });

  it('takes an array as is', () => {
    expect(toArgv(['a b', '$(x)'])).toEqual(['a b', '$(x)']);
    expect(toArgv(undefined)).toEqual([]);
  });
});

describe('assertNoManagedOptions', () => {
  it('refuses --port in both forms, naming it', () => {
    expect(() => assertNoManagedOptions(['--port', '9000'], 1)).toThrow(/contains --port/);
    expect(() => assertNoManagedOptions(['--port=9000'], 1)).toThrow(/contains --port/);
    expect(() => assertNoManagedOptions(['--model', 'x'], 1)).toThrow(/--model/);
  });

  it('refuses multi-node options only for multi-node replicas', () => {
    expect(() => assertNoManagedOptions(['--nnodes', '2'], 1)).not.toThrow();
    expect(() => assertNoManagedOptions(['--nnodes', '2'], 2)).toThrow(/--nnodes/);
    expect(() => assertNoManagedOptions(['--model-impl', 'x', '--portal'], 1)).not.toThrow();
  });
});
