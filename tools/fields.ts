import { z } from 'zod';

/** Input fields shared by several tools, with the descriptions an agent reads. */

export const JOB_ID_PATTERN = /^[0-9]+(_[0-9]+)?$/;
export const LOG_FILE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function jobIdField(what: string) {
  return z
    .string()
    .regex(JOB_ID_PATTERN, 'a SLURM job id such as 123456')
    .describe(`${what}: the SLURM job id returned by launch (also listed by status), e.g. "123456"`);
}

export function logFileField() {
  return z
    .string()
    .regex(LOG_FILE_PATTERN, 'a plain file name such as log.out or replica_0.err')
    .describe(
      'Log file of the job: log.out / log.err (the job script), replica_<r>.out / replica_<r>.err (the engine of replica r, where model loading errors show up), router.out / router.err (sglang router). Default log.out',
    );
}
