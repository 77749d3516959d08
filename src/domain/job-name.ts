import { randomBytes } from 'node:crypto';
import { SmlError } from '../errors.js';

/**
 * Job names and tags. Every job sml-mcp submits is named `sml_…` and carries `--comment
 * sml-mcp:<launch id>:<job index>`, so SLURM alone can list our jobs and group a chain again,
 * even without a local record. Both use safe characters only: `#SBATCH` lines are not shell.
 */

export const JOB_NAME_PREFIX = 'sml_';
export const JOB_TAG_PREFIX = 'sml-mcp:';
const MAX_JOB_NAME_LENGTH = 100;
const LAUNCH_ID = /^[a-z0-9]{4,32}$/;

/** A fresh launch id: 10 lowercase letters and digits. */
export function newLaunchId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(10), (byte) => alphabet[byte % alphabet.length]).join('');
}

export function assertLaunchId(launchId: string): void {
  if (!LAUNCH_ID.test(launchId)) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `Launch id '${launchId}' is not valid: expected 4-32 lowercase letters or digits.`,
    );
  }
}

/** `sml_<served name with unsafe characters as _>_<launch id>`, at most 100 characters. */
export function makeJobName(servedModelName: string, launchId: string): string {
  assertLaunchId(launchId);
  const slug = servedModelName
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
  const room = MAX_JOB_NAME_LENGTH - JOB_NAME_PREFIX.length - launchId.length - 1;
  const body = slug.slice(0, room).replace(/_$/, '');
  return `${JOB_NAME_PREFIX}${body ? `${body}_` : ''}${launchId}`;
}

/** The `--comment` tag of job `index` of a launch: `sml-mcp:<launch id>:<index>`. */
export function makeJobTag(launchId: string, index: number): string {
  assertLaunchId(launchId);
  return `${JOB_TAG_PREFIX}${launchId}:${index}`;
}

/** The launch id and chain index of a tag, or undefined when it is not ours. */
export function parseJobTag(comment: string | undefined): { launchId: string; index: number } | undefined {
  const match = /^sml-mcp:([a-z0-9]{4,32}):(\d+)$/.exec(comment?.trim() ?? '');
  return match ? { launchId: match[1]!, index: Number(match[2]) } : undefined;
}
