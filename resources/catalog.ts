import { toCatalogModel } from '../src/catalog/catalog.js';
import { defineResource, guard, json } from './define-resource.js';
import { CATALOG_URI } from './uris.js';

export const catalogResource = defineResource({
  name: 'catalog',
  uri: CATALOG_URI,
  title: 'Model catalog',
  description:
    'Every catalog recipe as JSON (model, framework, nodes per replica, engine arguments, environment): the shipped catalog plus entries from your config file.',
  mimeType: 'application/json',
  isSubscribable: false,
  register(mcp, deps) {
    mcp.registerResource(
      this.name,
      CATALOG_URI,
      { title: this.title, description: this.description, mimeType: this.mimeType },
      (uri) =>
        guard(deps, uri.href, async () =>
          json(uri.href, { models: deps.catalog.entries.map(toCatalogModel) }, deps.config.redact),
        ),
    );
  },
});
