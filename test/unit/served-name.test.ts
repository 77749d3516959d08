import { describe, expect, it } from 'vitest';
import {
  findServedModelNames,
  namespaceServedModelName,
  resolveServedModelName,
  withServedModelName,
} from '../../src/domain/served-name.js';

describe('namespaceServedModelName', () => {
  it('prepends the user to vendor/model and bare names', () => {
    expect(namespaceServedModelName('swiss-ai/Apertus-8B', 'alice')).toBe('alice/swiss-ai/Apertus-8B');
    expect(namespaceServedModelName('my-model', 'alice')).toBe('alice/my-model');
  });

  it('keeps a name already under the same user', () => {
    expect(namespaceServedModelName('alice/swiss-ai/Apertus-8B', 'alice')).toBe('alice/swiss-ai/Apertus-8B');
  });

  it('refuses a name namespaced under someone else, saying how to fix it', () => {
    expect(() => namespaceServedModelName('bob/swiss-ai/Apertus-8B', 'alice')).toThrow(
      /namespaced under 'bob', but this job is submitted by 'alice'/,
    );
  });

  it('refuses empty names, empty segments and bad user names', () => {
    expect(() => namespaceServedModelName('', 'alice')).toThrow(/not valid/);
    expect(() => namespaceServedModelName('a//b', 'alice')).toThrow(/not valid/);
    expect(() => namespaceServedModelName('a/b', '')).toThrow(/User name/);
    expect(() => namespaceServedModelName('a/b', 'x/y')).toThrow(/User name/);
  });
});

describe('served names inside framework args', () => {
  it('recognises both the spaced and the = form', () => {
    expect(findServedModelNames(['--tp', '4', '--served-model-name', 'a/b'], 'sglang')).toEqual(['a/b']);
    expect(findServedModelNames(['--served-model-name=a/b', '--tp', '4'], 'sglang')).toEqual(['a/b']);
    expect(findServedModelNames(['--tp', '4'], 'sglang')).toBeUndefined();
  });

  it('reads several vLLM names and one sglang name', () => {
    const argv = ['--served-model-name', 'a/b', 'alias', '--max-model-len', '8192'];
    expect(findServedModelNames(argv, 'vllm')).toEqual(['a/b', 'alias']);
    expect(findServedModelNames(argv, 'sglang')).toEqual(['a/b']);
  });

  it('rewrites the first name in place and keeps the rest', () => {
    expect(withServedModelName(['--served-model-name', 'a/b', 'alias', '-x'], 'vllm', 'u/a/b')).toEqual([
      '--served-model-name',
      'u/a/b',
      'alias',
      '-x',
    ]);
    expect(withServedModelName(['--served-model-name=a/b'], 'sglang', 'u/a/b')).toEqual([
      '--served-model-name=u/a/b',
    ]);
  });

  it('injects the name when absent', () => {
    expect(withServedModelName(['--tp', '4'], 'sglang', 'u/a/b')).toEqual([
      '--served-model-name',
      'u/a/b',
      '--tp',
      '4',
    ]);
  });

  it('refuses the flag twice or without a value', () => {
    expect(() => findServedModelNames(['--served-model-name=a', '--served-model-name', 'b'], 'vllm')).toThrow(
      /2 times/,
    );
    expect(() => findServedModelNames(['--served-model-name', '--tp'], 'vllm')).toThrow(/without a name/);
  });
});

describe('resolveServedModelName', () => {
  it('prefers the explicit name, then the args, then the catalog model', () => {
    const base = { argv: [] as string[], user: 'alice', framework: 'sglang' as const };
    expect(resolveServedModelName({ ...base, explicit: 'x/y', fallback: 'v/m' }).servedModelName).toBe(
      'alice/x/y',
    );
    expect(
      resolveServedModelName({ ...base, argv: ['--served-model-name=p/q'], fallback: 'v/m' }).servedModelName,
    ).toBe('alice/p/q');
    const fromCatalog = resolveServedModelName({ ...base, fallback: 'v/m' });
    expect(fromCatalog.servedModelName).toBe('alice/v/m');
    expect(fromCatalog.argv).toEqual(['--served-model-name', 'alice/v/m']);
  });

  it('agrees when the explicit and the args name match after namespacing', () => {
    const resolved = resolveServedModelName({
      explicit: 'x/y',
      argv: ['--served-model-name', 'alice/x/y', 'z'],
      user: 'alice',
      framework: 'vllm',
    });
    expect(resolved.argv).toEqual(['--served-model-name', 'alice/x/y', 'z']);
    expect(resolved.aliases).toEqual(['z']);
  });

  it('refuses disagreeing names and a model path launch without a name', () => {
    expect(() =>
      resolveServedModelName({
        explicit: 'x/y',
        argv: ['--served-model-name', 'p/q'],
        user: 'a',
        framework: 'vllm',
      }),
    ).toThrow(/disagree/);
    expect(() => resolveServedModelName({ argv: [], user: 'a', framework: 'vllm' })).toThrow(
      /served_model_name/,
    );
  });
});
