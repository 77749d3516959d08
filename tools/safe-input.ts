import { SmlError } from '../src/errors.js';

/**
 * Checks every tool's raw arguments pass before their schema: no NUL byte in any string or key
 * (bash, C argv and file names end a string at NUL, so its tail would be silently lost), and no
 * string longer than any real value (a model name, a path, engine arguments, a pre-launch script).
 */

export const MAX_STRING_LENGTH = 64 * 1024;
/** No tool argument nests deeper than a few levels; a deeper value is refused before it is walked. */
export const MAX_NESTING = 32;

interface ArgumentProblem {
  path: string;
  problem: 'nul' | 'long' | 'deep';
  length: number;
}

/** The first string (or key) of a JSON value that holds a NUL byte or is too long, or a too deep value. */
export function findBadString(value: unknown, path: (string | number)[] = []): ArgumentProblem | undefined {
  if (typeof value === 'string') return checkString(value, path);
  if (value === null || typeof value !== 'object') return undefined;
  if (path.length >= MAX_NESTING) return { path: describePath(path), problem: 'deep', length: path.length };
  const entries: Iterable<[string | number, unknown]> = Array.isArray(value)
    ? value.entries()
    : Object.entries(value);
  for (const [key, item] of entries) {
    path.push(key);
    const found =
      (typeof key === 'string' ? checkString(key, path, ' (a key)') : undefined) ?? findBadString(item, path);
    path.pop();
    if (found !== undefined) return found;
  }
  return undefined;
}

function checkString(
  text: string,
  path: readonly (string | number)[],
  what = '',
): ArgumentProblem | undefined {
  if (text.includes('\u0000'))
    return { path: `${describePath(path)}${what}`, problem: 'nul', length: text.length };
  if (text.length > MAX_STRING_LENGTH)
    return { path: `${describePath(path)}${what}`, problem: 'long', length: text.length };
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
  if (found.problem === 'deep') {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `Invalid arguments for ${toolName}: ${path.slice(0, 200)} nests more than ${MAX_NESTING} levels deep.`,
      { hint: `Flatten the value and call ${toolName} again; tools/list shows its input schema.` },
    );
  }
  throw new SmlError(
    'INVALID_ARGUMENT',
    `Invalid arguments for ${toolName}: ${path} is ${found.length} characters long; at most ${MAX_STRING_LENGTH} are accepted.`,
    { hint: `Shorten ${path} and call ${toolName} again.` },
  );
}
