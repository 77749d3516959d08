import { SmlError } from '../src/errors.js';

/**
 * Checks every tool's raw arguments pass before their schema: no NUL byte in any string or key
 * (bash, C argv and file names end a string at NUL, so its tail would be silently lost), and no
 * string longer than any real value (a model name, a path, engine arguments, a pre-launch script).
 */

export const MAX_STRING_LENGTH = 64 * 1024;

interface StringProblem {
  path: string;
  problem: 'nul' | 'long';
  length: number;
}

/** The first string (or key) of a JSON value that holds a NUL byte or is too long, or undefined. */
export function findBadString(
  value: unknown,
  path: readonly (string | number)[] = [],
): StringProblem | undefined {
  if (typeof value === 'string') return checkString(value, describePath(path));
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findBadString(item, [...path, index]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = checkString(key, `${describePath(path)} (a key)`) ?? findBadString(item, [...path, key]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function checkString(text: string, path: string): StringProblem | undefined {
  if (text.includes('\u0000')) return { path, problem: 'nul', length: text.length };
  if (text.length > MAX_STRING_LENGTH) return { path, problem: 'long', length: text.length };
  return undefined;
}

function describePath(path: readonly (string | number)[]): string {
  return path.length === 0 ? '(arguments)' : path.join('.');
}

/** Throws INVALID_ARGUMENT naming the field when a string of the arguments holds a NUL byte or is too long. */
export function assertSafeStrings(toolName: string, args: unknown): void {
  const found = findBadString(args);
  if (found === undefined) return;
  const { path } = found;
  if (found.problem === 'nul') {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `Invalid arguments for ${toolName}: ${path} contains a NUL byte (\\u0000), which no cluster command, file name or script can carry.`,
      { hint: `Remove the NUL byte from ${path} and call ${toolName} again.` },
    );
  }
  throw new SmlError(
    'INVALID_ARGUMENT',
    `Invalid arguments for ${toolName}: ${path} is ${found.length} characters long; at most ${MAX_STRING_LENGTH} are accepted.`,
    { hint: `Shorten ${path} and call ${toolName} again.` },
  );
}
