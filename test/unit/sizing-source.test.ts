import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '../../bench/sizing-validation.js';
import { CatalogEntry } from '../../src/catalog/catalog.js';
import { SmlError } from '../../src/errors.js';
import { createSlurmScheduler } from '../../src/scheduler/slurm/index.js';
import { catalogModelResolver, loadModelFiles, sizeModel } from '../../src/sizing/index.js';

const QWEN3_8B = readFileSync(join(FIXTURES_DIR, 'Qwen__Qwen3-8B', 'config.json'), 'utf8');
/** Weights of a 16-bit checkpoint as its index would state them (bytes). */
const INDEX_BYTES = 16_381_470_720;
const INDEX = JSON.stringify({ metadata: { total_size: INDEX_BYTES }, weight_map: {} });

let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'sml-sizing-'));
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function modelDir(...segments: string[]): string {
  const dir = join(workDir, ...segments);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), QWEN3_8B);
  return dir;
}

describe('local model files', () => {
  it('reads a directory, and the exact weight bytes from its safetensors index', async () => {
    const dir = modelDir('local', 'with-index');
    writeFileSync(join(dir, 'model.safetensors.index.json'), INDEX);
    const result = await sizeModel({ model: dir, system: 'clariden' }, { hub: false });
    expect(result.model.origin).toBe('local');
    expect(result.model.weights_source).toBe('safetensors_index');
    expect(result.weights_bytes).toBe(INDEX_BYTES);
  });

  it('reads the path of a config.json', async () => {
    const dir = modelDir('local', 'plain');
    const files = await loadModelFiles(join(dir, 'config.json'));
    expect(files.origin).toBe('local');
    expect(files.indexTotalBytes).toBeUndefined();
    expect((files.config as { num_hidden_layers: number }).num_hidden_layers).toBe(36);
  });

  it('names the missing path', async () => {
    await expect(loadModelFiles(join(workDir, 'absent'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining(join(workDir, 'absent')),
    });
  });

  it('refuses what is neither a path nor a vendor/name id', async () => {
    await expect(loadModelFiles('not a model id')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('the cluster model registry through the Scheduler', () => {
  // The SLURM-CLI backend on this machine reads files locally: the same calls go over SSH or FirecREST.
  const scheduler = createSlurmScheduler({ kind: 'slurm' });

  it('reads <registry>/<vendor>/<model>/config.json and its index', async () => {
    const registry = join(workDir, 'registry');
    const dir = modelDir('registry', 'acme', 'tiny-8b');
    writeFileSync(join(dir, 'model.safetensors.index.json'), INDEX);
    const files = await loadModelFiles('acme/tiny-8b', { scheduler, registryPath: registry, hub: false });
    expect(files).toMatchObject({
      origin: 'registry',
      location: join(dir, 'config.json'),
      indexTotalBytes: INDEX_BYTES,
    });
  });

  it("uses a catalog entry's model_path and framework", async () => {
    const dir = modelDir('elsewhere', 'checkpoint');
    const entries = [
      CatalogEntry.parse({
        model: 'acme/custom',
        framework: 'vllm',
        model_path: dir,
        framework_args: '--tensor-parallel-size 4',
      }),
    ];
    const result = await sizeModel(
      { model: 'acme/custom', system: 'clariden' },
      { scheduler, resolveCatalogModel: catalogModelResolver(entries, '/nowhere'), hub: false },
    );
    expect(result.model.origin).toBe('registry');
    expect(result.target.framework).toBe('vllm');
    expect(result.catalog_recipe).toEqual({
      framework: 'vllm',
      nodes_per_replica: 1,
      framework_args: '--tensor-parallel-size 4',
    });
  });

  it("sizeModel reads the registry through the system's scheduler", async () => {
    const registry = join(workDir, 'registry-b');
    modelDir('registry-b', 'acme', 'tiny-8b');
    const seen: string[] = [];
    const result = await sizeModel(
      { model: 'acme/tiny-8b', system: 'local' },
      {
        registryPath: registry,
        hub: false,
        schedulerFor: (system) => {
          seen.push(system.name);
          return scheduler;
        },
      },
    );
    expect(seen).toEqual(['local']);
    expect(result.model.origin).toBe('registry');
  });

  it('sizes a catalog model from its shipped facts when neither the cluster nor the Hub answers', async () => {
    const result = await sizeModel(
      { model: 'Qwen/Qwen3-32B', system: 'clariden' },
      {
        hub: false,
        schedulerFor: () => {
          throw new SmlError('NOT_CONFIGURED', 'no FirecREST credentials');
        },
      },
    );
    expect(result.model).toMatchObject({ origin: 'catalog', layers: 64 });
    expect(result.model.location).toMatch(/assets\/model-configs\/Qwen__Qwen3-32B\/config\.json$/);
    expect(result.model.notes[0]).toMatch(/sourced facts sml-mcp ships/);
    expect(result.fits).toBe(true);
  });

  it("prefers the registry's own config.json, and falls back to the shipped facts when it cannot be read", async () => {
    const registry = join(workDir, 'registry-c');
    modelDir('registry-c', 'Qwen', 'Qwen3-8B');
    const fromRegistry = await loadModelFiles('Qwen/Qwen3-8B', {
      scheduler,
      registryPath: registry,
      hub: false,
    });
    expect(fromRegistry.origin).toBe('registry');
    const unreachable = Object.assign(Object.create(scheduler) as typeof scheduler, {
      fileSize: async () => {
        throw new SmlError('SCHEDULER_UNREACHABLE', 'login node down');
      },
    });
    const shipped = await loadModelFiles('Qwen/Qwen3-8B', {
      scheduler: unreachable,
      registryPath: registry,
      resolveCatalogModel: (id) => (id === 'Qwen/Qwen3-8B' ? { id, framework: 'sglang' } : undefined),
      hub: false,
    });
    expect(shipped.origin).toBe('catalog');
  });

  it('says where it looked when the registry lacks the model and the Hub is off', async () => {
    await expect(
      loadModelFiles('acme/not-there', { scheduler, registryPath: join(workDir, 'registry'), hub: false }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('the Hugging Face Hub over HTTP', () => {
  let hub: Server;
  let baseUrl: string;
  const seenAuthorization: string[] = [];

  beforeAll(async () => {
    hub = createServer((request: IncomingMessage, response: ServerResponse) => {
      seenAuthorization.push(String(request.headers.authorization ?? ''));
      const url = request.url ?? '';
      if (url === '/acme/tiny-8b/resolve/main/config.json') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(QWEN3_8B);
      } else if (url === '/acme/tiny-8b/resolve/main/model.safetensors.index.json') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(INDEX);
      } else if (url.startsWith('/acme/gated/')) {
        response.writeHead(401).end('gated');
      } else if (url.startsWith('/acme/endless/')) {
        // A mirror that streams without end: the reader must stop at the size of a config.
        response.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        const pump = () => {
          while (!response.destroyed && response.write(chunk));
          if (!response.destroyed) response.once('drain', pump);
        };
        pump();
      } else if (url.startsWith('/acme/hang/')) {
        // Never answers: the client's timeout must end the wait.
      } else {
        response.writeHead(404).end('not found');
      }
    });
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    hub.closeAllConnections();
    await new Promise((resolve) => hub.close(resolve));
  });

  it('reads config.json and the index from the Hub, with the token as a bearer header', async () => {
    const files = await loadModelFiles('acme/tiny-8b', { hub: { baseUrl, token: 'hf_test_token_123' } });
    expect(files.origin).toBe('hub');
    expect(files.location).toBe(`${baseUrl}/acme/tiny-8b/resolve/main/config.json`);
    expect(files.indexTotalBytes).toBe(INDEX_BYTES);
    expect(seenAuthorization.at(-1)).toBe('Bearer hf_test_token_123');
  });

  it('a gated model is PERMISSION_DENIED, and the token appears nowhere in the error', async () => {
    const failure = await loadModelFiles('acme/gated', {
      hub: { baseUrl, token: 'hf_test_token_123' },
    }).catch((e) => e);
    expect(failure).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(`${failure.message} ${failure.hint} ${JSON.stringify(failure.details)}`).not.toContain(
      'hf_test_token_123',
    );
    expect(failure.hint).toMatch(/HF_TOKEN/);
  });

  it('an endless answer is refused once it passes the size of any config', async () => {
    const failure = await loadModelFiles('acme/endless', { hub: { baseUrl, timeoutMs: 30_000 } }).catch(
      (e) => e,
    );
    expect(failure).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(failure.message).toMatch(/answered more than \d+ bytes/);
  });

  it('an unknown model is UNKNOWN_MODEL', async () => {
    await expect(loadModelFiles('acme/nothing', { hub: { baseUrl } })).rejects.toMatchObject({
      code: 'UNKNOWN_MODEL',
    });
  });

  it('no answer within the timeout is OFFLINE, naming the model and the way out', async () => {
    const failure = await loadModelFiles('acme/hang', { hub: { baseUrl, timeoutMs: 300 } }).catch((e) => e);
    expect(failure).toMatchObject({ code: 'OFFLINE' });
    expect(failure.message).toMatch(/'acme\/hang'.*no answer within 300 ms/);
    expect(failure.hint).toMatch(/local directory holding its config.json/);
  });

  it('a refused connection is OFFLINE at once', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const failure = await loadModelFiles('Qwen/Qwen3-8B', {
      hub: { baseUrl: `http://127.0.0.1:${port}` },
    }).catch((e) => e);
    expect(failure).toMatchObject({ code: 'OFFLINE', details: { model: 'Qwen/Qwen3-8B' } });
    expect(failure.message).toMatch(/ECONNREFUSED/);
  });

  it('a system without credentials falls back to the Hub', async () => {
    const result = await sizeModel(
      { model: 'acme/tiny-8b', system: 'clariden' },
      {
        hub: { baseUrl },
        schedulerFor: () => {
          throw new SmlError('NOT_CONFIGURED', 'no FirecREST credentials');
        },
      },
    );
    expect(result.model.origin).toBe('hub');
  });

  it('sizeModel sizes a Hugging Face id read from the Hub', async () => {
    const result = await sizeModel({ model: 'acme/tiny-8b', gpu: 'H100' }, { hub: { baseUrl } });
    expect(result.model).toMatchObject({ origin: 'hub', weights_source: 'safetensors_index', layers: 36 });
    expect(result.fits).toBe(true);
  });
});
