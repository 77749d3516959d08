import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { allPrompts } from '../prompts/index.js';
import { allResources } from '../resources/index.js';
import { PACKAGE_ROOT } from '../src/assets.js';
import { allTools } from '../tools/all.js';
import type { ToolDefinition } from '../tools/define-tool.js';

/**
 * The README's tables of tools, resources and prompts, generated from the registries so the
 * docs cannot drift: `node dist/server/readme.js --write` updates README.md between the markers,
 * `--check` exits 1 when it is stale (test/mcp/readme.test.ts does the same check).
 */

export const README_SECTIONS = ['tools', 'resources', 'prompts'] as const;
export type ReadmeSection = (typeof README_SECTIONS)[number];

export function markersOf(section: ReadmeSection): { start: string; end: string } {
  return { start: `<!-- ${section}:start -->`, end: `<!-- ${section}:end -->` };
}

const KIND_LABELS: Record<ToolDefinition['kind'], string> = {
  read: 'read-only',
  create: 'creates jobs',
  destructive: 'destructive',
};

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\n', ' ');
}

function firstSentence(text: string): string {
  const match = /^(.+?[.!?])(\s|$)/.exec(text);
  return match ? match[1]! : text;
}

function inputsOf(tool: ToolDefinition): string {
  const shape = tool.input.shape as Record<string, z.ZodType>;
  return Object.entries(shape)
    .map(([name, schema]) => (schema.safeParse(undefined).success ? `\`${name}\`` : `**\`${name}\`**`))
    .join(', ');
}

export function renderToolsTable(): string {
  const rows = allTools.map(
    (tool) =>
      `| \`${tool.name}\` | ${KIND_LABELS[tool.kind]} | ${cell(firstSentence(tool.description))} | ${inputsOf(tool)} |`,
  );
  return [
    '| Tool | Kind | What it does | Inputs (**required**) |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export function renderResourcesTable(): string {
  const rows = allResources.map(
    (resource) =>
      `| \`${resource.uri}\` | ${resource.mimeType} | ${resource.isSubscribable ? 'yes' : 'no'} | ${cell(firstSentence(resource.description))} |`,
  );
  return ['| Resource | Type | Subscribable | What it holds |', '| --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}

export function renderPromptsTable(): string {
  const rows = allPrompts.map((prompt) => {
    const args = prompt.arguments
      .map((a) => (a.isRequired ? `**\`${a.name}\`**` : `\`${a.name}\``))
      .join(', ');
    return `| \`${prompt.name}\` | ${args} | ${cell(prompt.description)} |`;
  });
  return ['| Prompt | Arguments (**required**) | What it does |', '| --- | --- | --- |', ...rows].join('\n');
}

const RENDERERS: Record<ReadmeSection, () => string> = {
  tools: renderToolsTable,
  resources: renderResourcesTable,
  prompts: renderPromptsTable,
};

/** The README sections that lack their markers. */
export function missingMarkers(readme: string): ReadmeSection[] {
  return README_SECTIONS.filter((section) => {
    const { start, end } = markersOf(section);
    const at = readme.indexOf(start);
    return at === -1 || readme.indexOf(end, at) === -1;
  });
}

/** The README with every marked block replaced by the generated table. */
export function updateReadme(readme: string): string {
  const missing = missingMarkers(readme);
  if (missing.length > 0) {
    throw new Error(
      `README.md lacks the markers of ${missing.map((s) => `${markersOf(s).start} … ${markersOf(s).end}`).join(', ')}`,
    );
  }
  let out = readme;
  for (const section of README_SECTIONS) {
    const { start, end } = markersOf(section);
    const from = out.indexOf(start) + start.length;
    const to = out.indexOf(end, from);
    out = `${out.slice(0, from)}\n${RENDERERS[section]()}\n${out.slice(to)}`;
  }
  return out;
}

export const README_PATH = join(PACKAGE_ROOT, 'README.md');

function main(argv: readonly string[]): number {
  const path = argv.find((a) => !a.startsWith('--')) ?? README_PATH;
  const current = readFileSync(path, 'utf8');
  const updated = updateReadme(current);
  if (argv.includes('--write')) {
    if (updated !== current) writeFileSync(path, updated);
    return 0;
  }
  if (updated !== current) {
    process.stderr.write(`${path} is out of date: run node dist/server/readme.js --write\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
