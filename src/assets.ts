import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Files shipped inside the package (the model catalog, environment files, the in-job health
 * checker). Found by walking up from this module, so they resolve the same from `src/` under
 * vitest, from `dist/` after a build, and from an installed package — never from the cwd.
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'assets', 'models.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('sml-mcp assets/ folder not found next to the package');
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();

export function assetPath(...segments: string[]): string {
  return join(PACKAGE_ROOT, 'assets', ...segments);
}
