import { SmlError } from '../errors.js';

/** Largest expansion accepted, so a typo such as `n[1-99999999]` cannot exhaust memory. */
const MAX_HOSTS = 100_000;

/**
 * Expand a SLURM hostlist expression into host names, in order:
 * `n[1-3,5]` → n1 n2 n3 n5; `gpu-[01-04]` → gpu-01 … gpu-04 (zero padding kept);
 * `a[1-2]b[3-4]` → a1b3 a1b4 a2b3 a2b4; top-level commas separate expressions.
 * Empty input and SLURM's placeholders (`(null)`, `None assigned`) give [].
 */
export function expandHostlist(expression: string): string[] {
  const trimmed = expression.trim();
  if (trimmed === '' || trimmed === '(null)' || trimmed === 'None assigned' || trimmed === 'N/A') return [];
  const hosts: string[] = [];
  for (const part of splitTopLevel(trimmed)) {
    if (part === '') continue;
    for (const host of expandOne(part, expression)) {
      hosts.push(host);
      if (hosts.length > MAX_HOSTS) {
        throw new SmlError(
          'INVALID_ARGUMENT',
          `Hostlist "${expression}" expands to more than ${MAX_HOSTS} hosts.`,
        );
      }
    }
  }
  return hosts;
}

/** Split on commas that are not inside brackets. */
function splitTopLevel(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of expression) {
    if (char === '[') depth++;
    if (char === ']') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current.trim());
  return parts;
}

/** Expand one expression without top-level commas; brackets multiply left to right. */
function expandOne(part: string, whole: string): string[] {
  const open = part.indexOf('[');
  if (open === -1) {
    if (part.includes(']')) throw malformed(whole);
    return [part];
  }
  const close = part.indexOf(']', open);
  if (close === -1) throw malformed(whole);
  const prefix = part.slice(0, open);
  const ranges = expandRanges(part.slice(open + 1, close), whole);
  const suffixes = expandOne(part.slice(close + 1), whole);
  const hosts: string[] = [];
  for (const value of ranges) {
    for (const suffix of suffixes) hosts.push(`${prefix}${value}${suffix}`);
    if (hosts.length > MAX_HOSTS) {
      throw new SmlError('INVALID_ARGUMENT', `Hostlist "${whole}" expands to more than ${MAX_HOSTS} hosts.`);
    }
  }
  return hosts;
}

/** `1-3,05-07,9` → 1 2 3 05 06 07 9; the width of a zero-padded start is kept. */
function expandRanges(body: string, whole: string): string[] {
  const values: string[] = [];
  for (const item of body.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(item.trim());
    if (!match) throw malformed(whole);
    const [, startText, endText] = match;
    const start = Number(startText);
    const end = endText === undefined ? start : Number(endText);
    if (end < start || end - start > MAX_HOSTS) throw malformed(whole);
    const width = startText!.length;
    for (let value = start; value <= end; value++) values.push(String(value).padStart(width, '0'));
  }
  return values;
}

function malformed(expression: string): SmlError {
  return new SmlError('SCHEDULER_ERROR', `Cannot read the SLURM hostlist "${expression}".`, {
    hint: 'Expected names such as n1, n[1-3,5] or gpu-[01-04].',
  });
}
