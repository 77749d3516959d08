// Loaded with `node --import`: writes `loaded <url>` to stderr for every file module resolved, by
// import (ESM keeps no inspectable module cache) or by require, so a test can see what a process
// pulled in.
import Module, { register } from 'node:module';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.startsWith('file:')) process.stderr.write('loaded ' + resolved.url + '\\n');
  return resolved;
}`)}`,
);

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (...args) {
  const path = resolveFilename.apply(this, args);
  if (isAbsolute(path)) process.stderr.write(`loaded ${pathToFileURL(path).href}\n`);
  return path;
};
