import { realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { SmlError } from '../errors.js';

/**
 * Which files of the machine running sml-mcp a tool input may name (a model's config.json, an
 * environment .toml). Over stdio the client is the local user, who may name any file they can read;
 * over HTTP the clients are remote, and may name files only under the directories the operator
 * allowed (`http.localPathRoots`), compared after resolving symlinks and `..`.
 */
export interface LocalFilePolicy {
  /** Directories (real paths) under which files may be named; undefined: any file (the local user). */
  readonly roots?: readonly string[];
}

/** The local user's policy: any file they can read. */
export const ANY_LOCAL_FILE: LocalFilePolicy = {};

/** A policy allowing only files under these directories (none: no local file at all). */
export function localFilesUnder(directories: readonly string[]): LocalFilePolicy {
  return { roots: directories.map((directory) => realPathOf(resolve(directory))) };
}

function realPathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Whether a tool input may name this local path (absolute, or relative to the server's directory). */
export function isLocalPathAllowed(path: string, policy: LocalFilePolicy): boolean {
  if (!policy.roots) return true;
  const real = realPathOf(resolve(path));
  return policy.roots.some(
    (root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep),
  );
}

/** The error for a local path the policy refuses; it says nothing about whether the file exists. */
export function localPathRefused(field: string, path: string, instead: string): SmlError {
  return new SmlError(
    'PERMISSION_DENIED',
    `${field} '${path}' names a file on the machine running sml-mcp, which remote (HTTP) clients may not read.`,
    {
      hint: `Give ${instead} instead, or ask the operator to allow its directory (http.localPathRoots in the sml-mcp config).`,
    },
  );
}
