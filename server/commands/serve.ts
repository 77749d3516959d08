import type { Command } from 'commander';
import { type ConfigFlags, describeConfig, loadConfig, type ResolvedConfig } from '../../src/config/load.js';
import { localFilesUnder } from '../../src/config/local-files.js';
import { errorText, SmlError, toSmlError } from '../../src/errors.js';
import { logger } from '../../src/log.js';
import { buildServerDeps } from '../build-deps.js';
import { runStdioServer } from '../stdio.js';

/** The serve options plus the program's global ones (--system, --partition, --account, --reservation, --config-path). */
export interface ServeOptions extends ConfigFlags {
  http?: string;
  allowRemote?: boolean;
  allowedHost?: string[];
  allowedOrigin?: string[];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `HOST:PORT`, `[IPv6]:PORT` or `PORT` (on the configured host). */
export function parseHostPort(text: string, defaultHost: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new SmlError('INVALID_ARGUMENT', `--http '${text}' is not HOST:PORT.`, {
      hint: 'For example --http 127.0.0.1:8765, --http [::1]:8765 or --http 8765.',
    });
  }
  return { host: match[1] || match[2] || defaultHost, port };
}

/** `sml-mcp serve [--http HOST:PORT]`: the MCP server over stdio (default) or Streamable HTTP. */
export function registerServeCommand(program: Command): Command {
  return program
    .command('serve')
    .description(
      'Run the MCP server: over stdio (default, for Claude Desktop, Claude Code, Cursor) or Streamable HTTP',
    )
    .option(
      '--http <host:port>',
      'serve Streamable HTTP on this address (token from SML_MCP_TOKEN); loopback only by default',
    )
    .option('--allow-remote', 'allow --http on a non-loopback address (also needs --allowed-host)')
    .option('--allowed-host <name>', 'Host header name clients use to reach the server (repeatable)', collect)
    .option(
      '--allowed-origin <origin>',
      'another browser Origin allowed to call the server, e.g. http://localhost:6274 (repeatable; its own loopback origins always are)',
      collect,
    )
    .action(async (_options: ServeOptions, command: Command) => {
      try {
        await runServe(command.optsWithGlobals<ServeOptions>());
      } catch (error) {
        process.stderr.write(`sml-mcp serve: ${errorText(toSmlError(error))}\n`);
        process.exitCode = 2;
      }
    });
}

export async function runServe(options: ServeOptions): Promise<void> {
  const config = loadConfig({
    flags: {
      system: options.system,
      partition: options.partition,
      account: options.account,
      reservation: options.reservation,
      configPath: options.configPath,
    },
  });
  logger.info(describeConfig(config));
  if (!options.http) return runStdioServer(buildServerDeps(config));
  // Remote clients may name files of this machine only under the directories the operator allowed.
  await runHttp(
    config,
    buildServerDeps(config, { localFiles: localFilesUnder(config.http.localPathRoots) }),
    options,
  );
}

async function runHttp(
  config: ResolvedConfig,
  deps: ReturnType<typeof buildServerDeps>,
  options: ServeOptions,
) {
  const { host, port } = parseHostPort(options.http!, config.http.host);
  // Loaded only here: a stdio server never pays for the HTTP transport.
  const { startHttpServer } = await import('../http.js');
  const server = await startHttpServer(deps, {
    host,
    port,
    token: config.credentialEnv().SML_MCP_TOKEN ?? '',
    allowedHosts: [...config.http.allowedHosts, ...(options.allowedHost ?? [])],
    allowedOrigins: [...config.http.allowedOrigins, ...(options.allowedOrigin ?? [])],
    isRemoteAllowed: options.allowRemote === true,
    sessionIdleMs: config.http.sessionIdleSeconds * 1000,
    maxBodyBytes: config.http.maxBodyBytes,
    maxSessions: config.http.maxSessions,
  });
  // The address goes to stderr: stdout stays free for whatever launched us.
  process.stderr.write(`sml-mcp: MCP over Streamable HTTP at ${server.url}\n`);
  const stop = () => void server.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
