import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assetPath } from '../../src/assets.js';
import { createCatalog, loadShippedCatalog } from '../../src/catalog/catalog.js';
import { parseEnvironmentToml, readEnvironmentFile } from '../../src/catalog/environment.js';
import type { SmlError } from '../../src/errors.js';

describe('the shipped catalog', () => {
  const catalog = loadShippedCatalog();

  it('loads all 31 entries with defaults filled', () => {
    expect(catalog.entries).toHaveLength(31);
    expect(catalog.models()).toHaveLength(30);
    for (const entry of catalog.entries) {
      expect(entry.nodes_per_replica).toBeGreaterThanOrEqual(1);
      expect(typeof entry.framework_args).toBe('string');
    }
  });

  it('names only environment files that ship with the package', () => {
    const shipped = new Set(readdirSync(assetPath('envs')));
    for (const entry of catalog.entries) {
      if (entry.environment !== null) expect(shipped).toContain(entry.environment);
    }
  });

  it('finds entries by model and framework', () => {
    expect(catalog.find('moonshotai/Kimi-K2.5')).toMatchObject({
      nodes_per_replica: 4,
      environment: 'sglang_kimi.toml',
    });
    expect(catalog.find('swiss-ai/Apertus-8B-Instruct-2509', 'vllm').framework).toBe('vllm');
    expect(() => catalog.find('swiss-ai/Apertus-8B-Instruct-2509')).toThrow(/sglang and vllm/);
    expect(() => catalog.find('moonshotai/Kimi-K2.5', 'vllm')).toThrow(/not vllm/);
    const unknown = (() => {
      try {
        catalog.find('swiss-ai/Apertus-9B');
      } catch (error) {
        return error as SmlError;
      }
    })();
    expect(unknown?.code).toBe('UNKNOWN_MODEL');
    expect(unknown?.hint).toContain('Apertus');
  });

  it('filters by framework, text and nodes per replica', () => {
    expect(catalog.filter({ framework: 'vllm' }).every((e) => e.framework === 'vllm')).toBe(true);
    expect(catalog.filter({ search: 'apertus' }).length).toBeGreaterThanOrEqual(6);
    expect(catalog.filter({ maxNodesPerReplica: 1 }).every((e) => e.nodes_per_replica === 1)).toBe(true);
  });
});

describe('catalog loading from data', () => {
  it('refuses an unknown key, naming the key and the entry', () => {
    expect(() =>
      createCatalog([{ model: 'a/b', framework: 'vllm', nodes_per_worker: 2 }], 'user.json'),
    ).toThrow(/user.json: entry 0 \(a\/b\) has an unknown key 'nodes_per_worker'/);
  });

  it('refuses bad values and duplicates', () => {
    expect(() => createCatalog([{ model: 'a/b', framework: 'tgi' }], 'x')).toThrow(/field 'framework'/);
    expect(() => createCatalog([{ model: 'a/b', framework: 'vllm', nodes_per_replica: 0 }], 'x')).toThrow(
      /nodes_per_replica/,
    );
    expect(() =>
      createCatalog(
        [
          { model: 'a/b', framework: 'vllm' },
          { model: 'a/b', framework: 'vllm' },
        ],
        'x',
      ),
    ).toThrow(/twice/);
    expect(() => createCatalog({}, 'x')).toThrow(/array/);
  });
});

describe('environment files', () => {
  it('parses the shipped EDF files', () => {
    const env = readEnvironmentFile(assetPath('envs', 'sglang.toml'));
    expect(env.image).toMatch(/sglang_cuda13\.sqsh$/);
    expect(env.mounts).toContain('/capstor');
    expect(env.workdir).toBe('/opt');
    expect(env.env.NCCL_NET).toBe('AWS Libfabric');
    expect(env.annotations['com.hooks.aws_ofi_nccl.variant']).toBe('cuda13');
    expect(readEnvironmentFile(assetPath('envs', 'vllm_apertus_1.5.toml')).image).toContain('{arch}');
  });

  it('stringifies scalar env values and refuses bad shapes', () => {
    expect(parseEnvironmentToml('[env]\nA = 1\nB = true', 't').env).toEqual({ A: '1', B: 'true' });
    expect(() => parseEnvironmentToml('mounts = "x"', 't')).toThrow(/mounts must be a list/);
    // A key no object can hold as data is refused, not dropped.
    expect(() => parseEnvironmentToml('[env]\n__proto__ = "x"', 't')).toThrow(/'__proto__' is not supported/);
    expect(() => parseEnvironmentToml('[annotations.__proto__]\na = "x"', 't')).toThrow(/is not supported/);
    expect(parseEnvironmentToml('[env]\nconstructor = "x"', 't').env).toEqual({ constructor: 'x' });
    expect(() => parseEnvironmentToml('[env]\n"BAD-NAME" = "x"', 't')).toThrow(/BAD-NAME/);
    expect(() => parseEnvironmentToml('image = ', 't')).toThrow(/not valid TOML/);
    expect(() => readEnvironmentFile('/nonexistent/env.toml')).toThrow(/cannot be read/);
  });
});
