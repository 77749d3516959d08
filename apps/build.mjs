#!/usr/bin/env node
// Bundle each MCP App (apps/<name>/main.ts + index.html) into one self-contained HTML document,
// dist/apps/<name>.html, which resources/ serves as its ui:// resource: script and styles inline,
// nothing fetched at run time (the app declares an empty CSP).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { englishOnlyZod } from './english-only-zod.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const APPS = ['live-view'];
const BUNDLE_MARKER = '/*__APP_BUNDLE__*/';

for (const name of APPS) {
  const folder = join(root, 'apps', name);
  const result = await build({
    entryPoints: [join(folder, 'main.ts')],
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    legalComments: 'none',
    plugins: [englishOnlyZod],
    logLevel: 'warning',
  });
  const script = result.outputFiles[0].text.replaceAll('</script', '<\\/script');
  const template = await readFile(join(folder, 'index.html'), 'utf8');
  if (!template.includes(BUNDLE_MARKER)) throw new Error(`apps/${name}/index.html lacks ${BUNDLE_MARKER}`);
  const html = template.replace(BUNDLE_MARKER, () => script);
  const out = join(root, 'dist', 'apps', `${name}.html`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, html);
  process.stderr.write(`apps/${name} → dist/apps/${name}.html (${Math.round(html.length / 1024)} KB)\n`);
}
