import { z } from 'zod';

/** The inference engines sml-mcp deploys: the one definition every schema, type and CLI choice uses. */
export const FRAMEWORKS = ['sglang', 'vllm'] as const;

export const Framework = z.enum(FRAMEWORKS, {
  error: (issue) => `Unknown framework: '${String(issue.input)}'. Known: ${FRAMEWORKS.join(', ')}`,
});
export type Framework = z.infer<typeof Framework>;
