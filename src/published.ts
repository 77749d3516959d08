/**
 * Marks for how a shape is published as JSON Schema (tools/publish.ts reads them), kept here so
 * that shapes in src/ can carry them without importing the MCP layer.
 */

/**
 * Part of an output published by its type and description alone (`.meta({ ...BRIEF, description })`),
 * the description naming the fields or values: detail an agent reads in the result itself, which
 * would otherwise cost every session its full schema. Validation still uses the whole zod shape.
 */
export const BRIEF = { brief: true } as const;
