import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allPrompts } from '../../prompts/index.js';
import { allResources } from '../../resources/index.js';
import {
  markersOf,
  missingMarkers,
  README_PATH,
  README_SECTIONS,
  renderToolsTable,
  updateReadme,
} from '../../server/readme.js';
import { allTools } from '../../tools/all.js';

const readme = readFileSync(README_PATH, 'utf8');

describe('README tables', () => {
  it('render every tool, resource and prompt of the registries', () => {
    const skeleton = README_SECTIONS.map(
      (s) => `${markersOf(s).start}\nSTALE-CONTENT\n${markersOf(s).end}`,
    ).join('\n\n');
    const filled = updateReadme(skeleton);
    for (const tool of allTools) expect(filled).toContain(`| \`${tool.name}\` |`);
    for (const resource of allResources) expect(filled).toContain(`| \`${resource.uri}\` |`);
    for (const prompt of allPrompts) expect(filled).toContain(`| \`${prompt.name}\` |`);
    expect(filled).not.toContain('STALE-CONTENT');
    expect(updateReadme(filled)).toBe(filled);
    expect(renderToolsTable()).toContain('**`job_id`**');
  });

  it('refuse a README without the markers, naming them', () => {
    expect(() => updateReadme('# nothing here')).toThrow('<!-- tools:start -->');
  });

  it('in README.md match the registries (npm run readme)', () => {
    expect(missingMarkers(readme)).toEqual([]);
    expect(updateReadme(readme)).toBe(readme);
  });
});
