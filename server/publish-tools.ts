import { writeFileSync } from 'node:fs';
import { computeToolsList, PUBLISHED_TOOLS_FILE } from '../tools/index.js';

/**
 * Run by `npm run build`: writes the tools/list answer beside dist/tools/index.js, so a server
 * started from dist answers tools/list without building a single schema.
 */
writeFileSync(PUBLISHED_TOOLS_FILE, JSON.stringify(await computeToolsList()));
