import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { GetPromptResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServerDeps } from '../server/deps.js';
import { redactDeep } from '../src/config/secrets.js';

/** One module per prompt: metadata for the README and a `register` wiring arguments and completion. */
export interface PromptDefinition {
  name: string;
  title: string;
  description: string;
  /** Argument names with whether they are required, for the README. */
  arguments: { name: string; description: string; isRequired: boolean }[];
  register(mcp: McpServer, deps: ServerDeps): void;
}

export function definePrompt(prompt: PromptDefinition): PromptDefinition {
  return prompt;
}

/** Catalog model ids containing the typed text (completion callbacks get no signal: keep them cheap). */
export function completeModel(deps: ServerDeps, value: string): string[] {
  const needle = value.toLowerCase();
  return deps.catalog.models().filter((model) => model.toLowerCase().includes(needle));
}

/** Prompt messages carry user arguments and log text: redact known secrets like every other output. */
export function redactPrompt(deps: ServerDeps, result: GetPromptResult): GetPromptResult {
  return redactDeep(result, deps.config.redact);
}
