#!/usr/bin/env node
// Bundle the CLI into dist/bin/sml-mcp.js (the package's `sml-mcp` bin) and its lazily loaded
// chunks, from tsc's output. One file instead of ~280 modules (our own, the MCP SDK's, zod's) is
// most of a fast cold start: a stdio server answers tools/list in ~0.75× the time of the SDK's own
// example server (bench/agent-surface.ts). Libraries loaded on first use only stay outside.
import { chmod, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { englishOnlyZod } from '../apps/english-only-zod.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outdir = join(root, 'dist', 'bin');

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { 'sml-mcp': join(root, 'dist', 'server', 'cli.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // pino is required at run time by src/log.ts; undici, execa and ext-apps load on first use.
  external: ['pino', 'undici', 'execa', '@modelcontextprotocol/ext-apps'],
  // Bundled CommonJS dependencies (ajv) require Node's built-ins through this.
  banner: {
    js: "import { createRequire as smlCreateRequire } from 'node:module'; const require = smlCreateRequire(import.meta.url);",
  },
  legalComments: 'linked',
  // Stack traces name the TypeScript source with `node --enable-source-maps` (tsc's maps are chained in).
  sourcemap: 'linked',
  sourcesContent: false,
  plugins: [englishOnlyZod],
  logLevel: 'warning',
});
await chmod(join(outdir, 'sml-mcp.js'), 0o755);
process.stderr.write('dist/server/cli.js → dist/bin/sml-mcp.js\n');
