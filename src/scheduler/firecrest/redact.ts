/** Replace every occurrence of each secret in `text` with `[redacted]` (short strings are left alone). */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 6) result = result.replaceAll(secret, '[redacted]');
  }
  return result;
}
