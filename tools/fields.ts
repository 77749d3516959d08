import { z } from 'zod';
import { JOB_ID_PATTERN, LOG_FILE_PATTERN } from '../src/domain/ids.js';

/** Input fields shared by several tools, with the descriptions an agent reads. */

export function jobIdField(what: string) {
  return z
    .string()
    .regex(JOB_ID_PATTERN, 'a SLURM job id such as 123456')
    .describe(`${what}: its SLURM job id, e.g. "123456"`);
}

export function logFileField() {
  return z
    .string()
    .regex(LOG_FILE_PATTERN, 'a plain file name such as log.out or replica_0.err')
    .describe('log.out/.err (job script, default), replica_<r>.out/.err (engine r), router.out/.err');
}
