import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** What ships: the bundled CLI, the package's bin (`npm run build` first). */
export const CLI = fileURLToPath(new URL('../../dist/bin/sml-mcp.js', import.meta.url));

/**
 * Run `sml-mcp` as a person does, with its own config dir and no default system unless `env`
 * gives one; never rejects, so a test asserts the exit code and stderr.
 */
export function cliRunner(configDir = mkdtempSync(join(tmpdir(), 'sml-cli-'))) {
  return (args: string[], env: Record<string, string> = {}) =>
    execa(process.execPath, [CLI, ...args], {
      reject: false,
      env: { SML_CONFIG_DIR: configDir, SML_SYSTEM: '', ...env },
      timeout: 300_000,
    });
}
