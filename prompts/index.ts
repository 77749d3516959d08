import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ServerDeps } from '../src/services.js';
import { type PromptDefinition, registerPrompt } from './define-prompt.js';
import { deployModelPrompt } from './deploy-model.js';
import { diagnoseJobPrompt } from './diagnose-job.js';
import { rightSizePrompt } from './right-size.js';

export const allPrompts: readonly PromptDefinition[] = [
  deployModelPrompt,
  diagnoseJobPrompt,
  rightSizePrompt,
];

export function registerPrompts(mcp: McpServer, deps: ServerDeps): void {
  for (const prompt of allPrompts) registerPrompt(mcp, deps, prompt);
}
