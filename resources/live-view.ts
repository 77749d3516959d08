import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/assets.js';
import { SmlError } from '../src/errors.js';
import { defineResource, guard } from './define-resource.js';
import { LIVE_VIEW_URI } from './uris.js';

/**
 * ext-apps' RESOURCE_MIME_TYPE and RESOURCE_URI_META_KEY, spelled here so start-up does not import
 * @modelcontextprotocol/ext-apps/server (~13 ms); test/mcp/cold-start.test.ts pins them.
 */
export const RESOURCE_MIME_TYPE = 'text/html;profile=mcp-app';
export const RESOURCE_URI_META_KEY = 'ui/resourceUri';

/** Built by apps/build.mjs (npm run build) from apps/live-view/. */
const HTML_PATH = join(PACKAGE_ROOT, 'dist', 'apps', 'live-view.html');

/** No network of its own: every figure comes through the host's tools/call and resources/read. */
const UI_META = { csp: { connectDomains: [], resourceDomains: [] }, prefersBorder: true };

/** The `_meta` of status and launch: where hosts find the view (also under the flat key of older hosts, as registerAppTool does). */
export const LIVE_VIEW_TOOL_META = {
  ui: { resourceUri: LIVE_VIEW_URI },
  [RESOURCE_URI_META_KEY]: LIVE_VIEW_URI,
};

let html: Promise<string> | undefined;

function readHtml(): Promise<string> {
  html ??= readFile(HTML_PATH, 'utf8').catch((error: unknown) => {
    html = undefined;
    throw new SmlError('INTERNAL', `The live view is not built (${HTML_PATH} is missing).`, {
      hint: 'Run `npm run build` in the sml-mcp folder.',
      cause: error,
    });
  });
  return html;
}

export const liveViewResource = defineResource({
  name: 'live-view',
  uri: LIVE_VIEW_URI,
  title: 'Live view of deployments',
  description:
    'An MCP App that hosts with MCP Apps support show next to status and launch results: every deployment with its phase, replica health, endpoints and chain, live charts of the selected job (tokens/s, requests running and queued, KV cache, time to first token), its log, and a Cancel button. Self-contained HTML; it reads everything through the host.',
  mimeType: RESOURCE_MIME_TYPE,
  isSubscribable: false,
  register(mcp, deps) {
    // What ext-apps' registerAppResource does: the MCP App MIME type over the given config.
    mcp.registerResource(
      this.name,
      LIVE_VIEW_URI,
      {
        mimeType: RESOURCE_MIME_TYPE,
        title: this.title,
        description: this.description,
        _meta: { ui: UI_META },
      },
      (uri) =>
        guard(deps, uri.href, async () => ({
          contents: [
            { uri: uri.href, mimeType: RESOURCE_MIME_TYPE, text: await readHtml(), _meta: { ui: UI_META } },
          ],
        })),
    );
  },
});
