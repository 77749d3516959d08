import type { ToolDefinition } from './define-tool.js';
import { loadAllTools } from './index.js';

/** Every tool's definition, loaded at once: for the README, the build and tests (the server loads each on first call). */
export const allTools: readonly ToolDefinition[] = await loadAllTools();
