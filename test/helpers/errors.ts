import { expect } from 'vitest';
import { SmlError } from '../../src/errors.js';

/** The SmlError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<SmlError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SmlError);
  return error as SmlError;
}

/** The SmlError `fn` throws; fails the test when it returns or throws anything else. */
export function thrown(fn: () => unknown): SmlError {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(SmlError);
  return error as SmlError;
}
