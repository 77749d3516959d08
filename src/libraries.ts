/**
 * Libraries loaded on first use: a server that answers tools/list (or a CLI that prints --help)
 * never pays for HTTP or process spawning it does not do. Each is imported once.
 */
let undici: Promise<typeof import('undici')> | undefined;
let execa: Promise<typeof import('execa')> | undefined;

export function loadUndici(): Promise<typeof import('undici')> {
  undici ??= import('undici');
  return undici;
}

export function loadExeca(): Promise<typeof import('execa')> {
  execa ??= import('execa');
  return execa;
}
