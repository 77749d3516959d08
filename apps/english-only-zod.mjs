// An esbuild plugin shared by the bundles of the MCP Apps (apps/build.mjs) and of the CLI
// (server/bundle.mjs).

/** zod re-exports every translation of its messages (~260 KB); sml-mcp only ever shows English (nothing reads z.locales). */
export const englishOnlyZod = {
  name: 'english-only-zod',
  setup(esbuild) {
    esbuild.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /\/node_modules\/zod\//.test(args.importer)
        ? { path: 'zod-locales', namespace: 'english-only-zod' }
        : undefined,
    );
    esbuild.onLoad({ filter: /.*/, namespace: 'english-only-zod' }, () => ({
      contents: 'export {};',
      loader: 'js',
    }));
  },
};
