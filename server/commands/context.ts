import { createInterface } from 'node:readline/promises';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type CallToolResult, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { type ConfigFlags, loadConfig, type ResolvedConfig } from '../../src/config/load.js';
import { logger } from '../../src/log.js';
import { buildServerDeps } from '../build-deps.js';
import { connectInProcessClient } from '../client.js';
import { isTerminal } from './asker.js';
import { printErr } from './print.js';

/** Options every subcommand accepts (flags over environment over config file over defaults). */
export interface GlobalOptions extends ConfigFlags {
  json?: boolean;
}

/** A tool answered with isError: its text (`[CODE] message next-step`) is what the user sees. */
export class ToolError extends Error {}

export interface ToolCaller {
  call<T = Record<string, unknown>>(
    name: string,
    args: Record<string, unknown>,
    options?: { onProgress?: (message: string) => void; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<{ structured: T; text: string }>;
  /** The text of a resource (a dry run's script, a job's metrics snapshot). */
  read(uri: string, options?: { signal?: AbortSignal }): Promise<string>;
  close(): Promise<void>;
  /** The configuration the tools run with (systems, defaults). */
  config: ResolvedConfig;
}

/**
 * An in-process MCP client to a fresh server: every CLI subcommand calls the same tool an agent
 * calls. On a terminal, the client offers elicitation, so `cancel` asks the person directly.
 */
export async function openToolCaller(global: GlobalOptions): Promise<ToolCaller> {
  // A person at a terminal wants the answer, not the server's operational log.
  if (!process.env.SML_LOG_LEVEL) logger.level = 'warn';
  const config = loadConfig({
    flags: {
      system: global.system,
      partition: global.partition,
      account: global.account,
      reservation: global.reservation,
      configPath: global.configPath,
    },
  });
  for (const warning of config.warnings) printErr(`warning: ${warning}`);
  const isInteractive = isTerminal();
  const client: Client = await connectInProcessClient(buildServerDeps(config), {
    capabilities: isInteractive ? { elicitation: { form: {} } } : {},
  });
  if (isInteractive)
    client.setRequestHandler(ElicitRequestSchema, async (request) => askPerson(request.params.message));
  return {
    async call(name, args, options = {}) {
      const result = (await client.callTool({ name, arguments: args }, undefined, {
        timeout: options.timeoutMs ?? 3_600_000,
        onprogress: options.onProgress
          ? (progress) => options.onProgress?.(progress.message ?? '')
          : undefined,
        resetTimeoutOnProgress: true,
        signal: options.signal,
      })) as CallToolResult;
      const text = result.content.flatMap((item) => (item.type === 'text' ? [item.text] : [])).join('\n');
      if (result.isError) throw new ToolError(text);
      return { structured: result.structuredContent as never, text };
    },
    async read(uri, options = {}) {
      const { contents } = await client.readResource({ uri }, { signal: options.signal });
      return contents.map((item) => ('text' in item ? item.text : '')).join('');
    },
    close: () => client.close(),
    config,
  };
}

async function askPerson(
  message: string,
): Promise<{ action: 'accept' | 'decline'; content?: { confirm: boolean } }> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${message} [y/N] `);
    const isYes = /^y(es)?$/i.test(answer.trim());
    return isYes ? { action: 'accept', content: { confirm: true } } : { action: 'decline' };
  } finally {
    prompt.close();
  }
}
