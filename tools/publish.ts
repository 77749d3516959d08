import type { ListToolsResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { annotationsFor, type ToolDefinition } from './define-tool.js';

/**
 * How tools are published in tools/list: computed once per process, small, and portable.
 *
 * Inputs use the keywords every major provider accepts (Anthropic; OpenAI, strict mode included
 * once a client adds its `additionalProperties: false`; Gemini's OpenAPI subset). What that
 * subset cannot say (unknown keys, string lengths, formats, patterns) the tool still checks with
 * its zod schema, with the same clear errors; defaults are stated in the descriptions.
 *
 * Outputs describe without bloating: each top-level field with its type, and a nested record as
 * one line naming its fields (so no shape is ever stated twice); no ±2^53 bounds on integers, no
 * closed objects (fields may be added), no `required` lists (every declared field is always
 * present, null when unknown), nullable types as type lists. Results are validated against the
 * full zod schema before they are sent.
 */

export type JsonSchema = { [keyword: string]: unknown };

/** tools/list must stay within this many bytes on the wire (the whole JSON-RPC response). */
export const TOOLS_LIST_BUDGET_BYTES = 16 * 1024;

/** Input keywords kept as they are: Anthropic, OpenAI strict and Gemini all accept them. */
export const COMMON_INPUT_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'description',
  'enum',
  'items',
  'properties',
  'required',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'anyOf',
]);

/**
 * Dropped from inputs: the tool's own validation enforces them (its errors name the expected form),
 * descriptions state defaults. Patterns are valid everywhere but cost more than they tell.
 */
const TOOL_CHECKED_KEYWORDS = new Set([
  '$schema',
  'additionalProperties',
  'default',
  'minLength',
  'maxLength',
  'format',
  'pattern',
]);

// zod's bounds for "any safe integer": they say nothing and cost 40 bytes each.
const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

/** A tool's input schema in the dialect every provider accepts. */
export function toInputJsonSchema(schema: z.ZodObject): JsonSchema {
  return toCommonDialect(z.toJSONSchema(schema, { io: 'input', target: 'draft-07' }) as JsonSchema, '');
}

function toCommonDialect(node: JsonSchema, path: string): JsonSchema {
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (TOOL_CHECKED_KEYWORDS.has(keyword)) continue;
    if ((keyword === 'minimum' || keyword === 'maximum') && SAFE_INTEGER_BOUNDS.has(value as number))
      continue;
    if (keyword === 'exclusiveMinimum' || keyword === 'exclusiveMaximum') {
      // For integers, > n is ≥ n + 1; for other numbers the tool checks the strict bound.
      if (node.type === 'integer') {
        const isMin = keyword === 'exclusiveMinimum';
        out[isMin ? 'minimum' : 'maximum'] = (value as number) + (isMin ? 1 : -1);
      }
      continue;
    }
    if (keyword === 'const') out.enum = [value];
    else if (keyword === 'properties') out.properties = mapValues(value as Record<string, JsonSchema>, path);
    else if (keyword === 'items') out.items = toCommonDialect(value as JsonSchema, `${path}[]`);
    else if (keyword === 'anyOf') out.anyOf = (value as JsonSchema[]).map((s) => toCommonDialect(s, path));
    else if (COMMON_INPUT_KEYWORDS.has(keyword)) out[keyword] = value;
    // A keyword nobody reviewed must not reach a provider that rejects the whole tool list.
    else
      throw new Error(
        `input schema keyword '${keyword}' at ${path || '(root)'} is not in the common dialect`,
      );
  }
  return out;
}

function mapValues(properties: Record<string, JsonSchema>, path: string): Record<string, JsonSchema> {
  return Object.fromEntries(
    Object.entries(properties).map(([name, schema]) => [name, toCommonDialect(schema, `${path}.${name}`)]),
  );
}

/** A tool's output schema, compact: what a client needs to validate and understand the result. */
export function toOutputJsonSchema(schema: z.ZodObject): JsonSchema {
  const full = compactOutput(z.toJSONSchema(schema, { io: 'output', target: 'draft-07' }) as JsonSchema);
  const properties = full.properties as Record<string, JsonSchema>;
  return {
    ...full,
    properties: Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, summarizeRecord(s)])),
  };
}

/**
 * A nested record (an object, or an array of objects) as its type and one line naming its fields:
 * the values are in the result itself, and typing every nested field cost most of tools/list.
 */
function summarizeRecord(schema: JsonSchema): JsonSchema {
  const items = schema.items as JsonSchema | undefined;
  // A list of strings or numbers says what it holds by its name (warnings, job_ids, framework_args).
  if (items && !items.properties) return withoutKey(schema, 'items');
  const record = schema.properties ? schema : items?.properties ? items : undefined;
  if (!record) return schema;
  const fields = Object.keys(record.properties as object).join(', ');
  const shape = record === schema ? `{${fields}}` : `[{${fields}}]`;
  return {
    type: schema.type,
    description: schema.description ? `${schema.description as string} ${shape}` : shape,
  };
}

function withoutKey(schema: JsonSchema, key: string): JsonSchema {
  const { [key]: _, ...rest } = schema;
  return rest;
}

const OMITTED_OUTPUT_KEYWORDS = new Set(['$schema', 'required', 'exclusiveMinimum']);

function compactOutput(node: JsonSchema): JsonSchema {
  // BRIEF (src/published.ts): the description stands for the shape.
  if (node.brief === true) {
    return { type: node.type, ...(node.description ? { description: node.description } : {}) };
  }
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (OMITTED_OUTPUT_KEYWORDS.has(keyword) || (keyword === 'additionalProperties' && value === false))
      continue;
    if ((keyword === 'minimum' || keyword === 'maximum') && SAFE_INTEGER_BOUNDS.has(value as number))
      continue;
    if (keyword === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, s]) => [name, compactOutput(s)]),
      );
    } else if (keyword === 'items' || keyword === 'additionalProperties') {
      out[keyword] = typeof value === 'object' ? compactOutput(value as JsonSchema) : value;
    } else if (keyword === 'anyOf') {
      Object.assign(out, collapseNullable((value as JsonSchema[]).map(compactOutput)));
    } else {
      out[keyword] = value;
    }
  }
  return out;
}

/** `anyOf: [{type: T, …}, {type: null}]` → `{type: [T, null], …}`: the same meaning, fewer bytes. */
function collapseNullable(branches: JsonSchema[]): JsonSchema {
  const isNull = (s: JsonSchema) => s.type === 'null' && Object.keys(s).length === 1;
  const other = branches.filter((s) => !isNull(s));
  const simple = other[0];
  const isCollapsible =
    branches.length === 2 && other.length === 1 && simple !== undefined && typeof simple.type === 'string';
  if (!isCollapsible) return { anyOf: branches };
  return {
    ...simple,
    type: [simple.type, 'null'],
    ...(Array.isArray(simple.enum) ? { enum: [...simple.enum, null] } : {}),
  };
}

/** One tool as tools/list shows it. */
export function toPublishedTool(tool: ToolDefinition): Tool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: toInputJsonSchema(tool.input) as Tool['inputSchema'],
    outputSchema: toOutputJsonSchema(tool.output) as Tool['outputSchema'],
    annotations: annotationsFor(tool),
    ...(tool._meta ? { _meta: tool._meta } : {}),
  };
}

const published = new WeakMap<readonly ToolDefinition[], ListToolsResult>();

/** The tools/list answer, built once per tool list (the tools never change while serving). */
export function listToolsResult(tools: readonly ToolDefinition[]): ListToolsResult {
  let result = published.get(tools);
  if (!result) {
    result = { tools: tools.map(toPublishedTool) };
    published.set(tools, result);
  }
  return result;
}
