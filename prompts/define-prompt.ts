import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { GetPromptResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { toMcpError } from '../resources/define-resource.js';
import { redactDeep } from '../src/config/secrets.js';
import type { ServerDeps } from '../src/services.js';

/**
 * One module per prompt. Its arguments are declared once, as data: the README table and the
 * registered zod schema (with completion) are both derived from them.
 */
export interface PromptArgument {
  name: string;
  description: string;
  isRequired: boolean;
  /** Values that fit what was typed (completion/complete). */
  complete?: (deps: ServerDeps, value: string) => string[] | Promise<string[]>;
  /** What a value must look like, checked before the prompt is built. */
  pattern?: RegExp;
}

export type PromptExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface PromptDefinition {
  name: string;
  title: string;
  description: string;
  arguments: PromptArgument[];
  build(
    args: Record<string, string | undefined>,
    deps: ServerDeps,
    extra: PromptExtra,
  ): GetPromptResult | Promise<GetPromptResult>;
}

export function definePrompt(prompt: PromptDefinition): PromptDefinition {
  return prompt;
}

/** Register a prompt: arguments become string schemas (completable when they complete), results are redacted. */
export function registerPrompt(mcp: McpServer, deps: ServerDeps, prompt: PromptDefinition): void {
  const argsSchema: Record<string, z.ZodType<string | undefined>> = {};
  for (const argument of prompt.arguments) {
    let text = z.string().min(1);
    if (argument.pattern) text = text.regex(argument.pattern);
    // Described and marked completable last: .optional() makes a new schema that would lose both.
    const schema = (argument.isRequired ? text : text.optional()).describe(argument.description);
    const complete = argument.complete;
    argsSchema[argument.name] = complete
      ? completable(schema, (value) => complete(deps, value ?? ''))
      : schema;
  }
  mcp.registerPrompt(
    prompt.name,
    { title: prompt.title, description: prompt.description, argsSchema },
    async (args: Record<string, string | undefined>, extra: PromptExtra) => {
      try {
        return redactDeep(await prompt.build(args, deps, extra), deps.config.redact);
      } catch (error) {
        throw toMcpError(error, deps.config.redact);
      }
    },
  );
}

/** System names starting with what was typed. */
export function completeSystem(deps: ServerDeps, value: string): string[] {
  return deps.systems
    .profiles()
    .map((profile) => profile.name)
    .filter((name) => name.startsWith(value));
}

/** Catalog model ids containing the typed text (completion callbacks get no signal: keep them cheap). */
export function completeModel(deps: ServerDeps, value: string): string[] {
  const needle = value.toLowerCase();
  return deps.catalog.models().filter((model) => model.toLowerCase().includes(needle));
}
