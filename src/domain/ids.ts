/**
 * The names sml-mcp accepts from outside, defined once: tools, resources, prompts and every
 * scheduler backend (SLURM CLI and FirecREST alike pass SLURM's own job ids) check against these.
 */

/** A SLURM job id: `123456`, or an array task `123456_7`. */
export const JOB_ID_PATTERN = /^[0-9]+(?:_[0-9]+)?$/;

/** A log file of a job: a plain file name (no path, no leading dot), at most 128 characters. */
export const LOG_FILE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A pattern's body without anchors, to build larger patterns (URIs) from it. */
export function patternBody(pattern: RegExp): string {
  return pattern.source.replace(/^\^/, '').replace(/\$$/, '');
}
