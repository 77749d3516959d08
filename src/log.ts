import pino from 'pino';

/**
 * The operator log. It always goes to stderr: in stdio mode stdout belongs to the protocol.
 * Secrets are redacted by key name wherever they appear in a logged object.
 */
export const logger = pino(
  {
    name: 'sml-mcp',
    level: process.env.SML_LOG_LEVEL ?? 'info',
    redact: {
      paths: [
        '*.client_secret',
        '*.clientSecret',
        '*.api_key',
        '*.apiKey',
        '*.token',
        '*.access_token',
        '*.authorization',
        '*.Authorization',
        'headers["x-api-key"]',
      ],
      censor: '[redacted]',
    },
  },
  pino.destination({ dest: 2, sync: true }),
);
