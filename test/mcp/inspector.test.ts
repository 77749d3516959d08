import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTools } from '../../tools/all.js';
import { CLI } from '../helpers/cli.js';

/** A client no one here wrote: the MCP Inspector's CLI mode against the built server. */
const ROOT = join(import.meta.dirname, '..', '..');
const INSPECTOR = join(ROOT, 'node_modules', '.bin', 'mcp-inspector');

let dir: string;

beforeAll(() => {
  expect(existsSync(CLI), `${CLI} is missing: run npm run build first`).toBe(true);
  dir = mkdtempSync(join(tmpdir(), 'sml-inspector-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function inspect(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await execa(
    INSPECTOR,
    ['--cli', '-e', `SML_CONFIG_DIR=${dir}`, 'node', CLI, 'serve', ...args],
    { timeout: 120_000, cwd: ROOT },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('MCP Inspector CLI', () => {
  it('lists the tools', { timeout: 150_000 }, async () => {
    const listed = await inspect('--method', 'tools/list');
    expect((listed.tools as { name: string }[]).map((t) => t.name)).toEqual(allTools.map((t) => t.name));
  });

  it('calls list_models', { timeout: 150_000 }, async () => {
    const result = await inspect(
      '--method',
      'tools/call',
      '--tool-name',
      'list_models',
      '--tool-arg',
      'search=apertus',
    );
    expect(result.isError).toBeFalsy();
    const models = (result.structuredContent as { models: { model: string }[] }).models;
    expect(models.map((m) => m.model)).toContain('swiss-ai/Apertus-8B-Instruct-2509');
  });
});
