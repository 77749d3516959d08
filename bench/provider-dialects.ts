/**
 * The major model providers' documented limits for the parameters of a function/tool, as checks:
 * each returns the violations found in one input schema. test/mcp/publication.test.ts holds every
 * published tool to them; bench/agent-surface.ts prints the counts.
 */

export type Schema = { [keyword: string]: unknown };

/** Gemini function declarations: the OpenAPI 3.0 subset of its Schema object. */
const GEMINI_KEYWORDS = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);
const GEMINI_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);
const GEMINI_FORMATS: Record<string, string[]> = {
  string: ['enum', 'date-time'],
  number: ['float', 'double'],
  integer: ['int32', 'int64'],
};

export function geminiViolations(schema: Schema, path = '(root)'): string[] {
  const found: string[] = [];
  for (const keyword of Object.keys(schema)) {
    if (!GEMINI_KEYWORDS.has(keyword)) found.push(`${path}: ${keyword}`);
  }
  // An object without properties (a free-form record) is refused as "should be non-empty".
  if (schema.type === 'object' && Object.keys((schema.properties as object | undefined) ?? {}).length === 0) {
    found.push(`${path}: object without properties`);
  }
  if (schema.type !== undefined && !(typeof schema.type === 'string' && GEMINI_TYPES.has(schema.type))) {
    found.push(`${path}: type ${JSON.stringify(schema.type)}`);
  }
  if (
    schema.format !== undefined &&
    !GEMINI_FORMATS[schema.type as string]?.includes(schema.format as string)
  ) {
    found.push(`${path}: format ${String(schema.format)}`);
  }
  if (schema.enum !== undefined && schema.type !== 'string')
    found.push(`${path}: enum on ${String(schema.type)}`);
  return [...found, ...childViolations(schema, path, geminiViolations)];
}

/**
 * OpenAI strict mode, after what a client does to enable it (every object closed with
 * `additionalProperties: false`, every property required, optional ones made nullable): the
 * keywords strict mode supports, and no open object.
 */
const OPENAI_STRICT_KEYWORDS = new Set([
  'type',
  'description',
  'enum',
  'const',
  'anyOf',
  'properties',
  'required',
  'additionalProperties',
  'items',
  '$ref',
  '$defs',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
]);
const OPENAI_FORMATS = new Set([
  'date-time',
  'time',
  'date',
  'duration',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'uuid',
]);

export function toOpenAiStrict(schema: Schema): Schema {
  const out: Schema = { ...schema };
  if (schema.type === 'object' && schema.properties) {
    const required = new Set((schema.required as string[] | undefined) ?? []);
    out.additionalProperties = out.additionalProperties ?? false;
    out.properties = Object.fromEntries(
      Object.entries(schema.properties as Record<string, Schema>).map(([name, property]) => {
        const strict = toOpenAiStrict(property);
        return [name, required.has(name) ? strict : { anyOf: [strict, { type: 'null' }] }];
      }),
    );
    out.required = Object.keys(schema.properties);
  }
  if (schema.items) out.items = toOpenAiStrict(schema.items as Schema);
  if (schema.anyOf) out.anyOf = (schema.anyOf as Schema[]).map(toOpenAiStrict);
  return out;
}

export function openAiStrictViolations(schema: Schema, path = '(root)'): string[] {
  const found: string[] = [];
  for (const keyword of Object.keys(schema)) {
    if (!OPENAI_STRICT_KEYWORDS.has(keyword)) found.push(`${path}: ${keyword}`);
  }
  if (schema.format !== undefined && !OPENAI_FORMATS.has(schema.format as string)) {
    found.push(`${path}: format ${String(schema.format)}`);
  }
  if (schema.type === 'object') {
    if (schema.additionalProperties !== false) found.push(`${path}: open object`);
    const properties = Object.keys((schema.properties as object | undefined) ?? {});
    const required = (schema.required as string[] | undefined) ?? [];
    if (properties.some((p) => !required.includes(p))) found.push(`${path}: optional property`);
  }
  return [...found, ...childViolations(schema, path, openAiStrictViolations)];
}

function childViolations(
  schema: Schema,
  path: string,
  check: (schema: Schema, path: string) => string[],
): string[] {
  const found: string[] = [];
  for (const [name, property] of Object.entries((schema.properties as Record<string, Schema>) ?? {})) {
    found.push(...check(property, `${path}.${name}`));
  }
  if (schema.items) found.push(...check(schema.items as Schema, `${path}[]`));
  for (const branch of (schema.anyOf as Schema[] | undefined) ?? []) found.push(...check(branch, path));
  return found;
}
