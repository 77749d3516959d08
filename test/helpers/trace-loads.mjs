// Loaded with `node --import`: writes `loaded <url>` to stderr for every file module resolved,
// so a test can see what a process pulled in (ESM keeps no inspectable module cache).
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.startsWith('file:')) process.stderr.write('loaded ' + resolved.url + '\\n');
  return resolved;
}`)}`,
);
