import { defineResource, guard, json } from './define-resource.js';
import { SYSTEMS_URI } from './uris.js';

export const systemsResource = defineResource({
  name: 'systems',
  uri: SYSTEMS_URI,
  title: 'Systems',
  description:
    'The system profiles sml-mcp knows as JSON (built-in and from your config): scheduler backend, GPUs, CPU architecture, container runtime, per-job time cap, and the launch defaults in force. The list_systems tool adds live partitions and reservations.',
  mimeType: 'application/json',
  isSubscribable: false,
  register(mcp, deps) {
    mcp.registerResource(
      this.name,
      SYSTEMS_URI,
      { title: this.title, description: this.description, mimeType: this.mimeType },
      (uri) =>
        guard(deps, uri.href, async () =>
          json(
            uri.href,
            {
              defaults: deps.config.defaults,
              systems: deps.systems.profiles().map((profile) => ({
                ...profile,
                is_default: profile.name === deps.config.defaults.system,
                is_user_defined: deps.config.userSystemNames.includes(profile.name),
              })),
            },
            deps.config.redact,
          ),
        ),
    );
  },
});
