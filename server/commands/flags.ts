import { type Command, InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';

/**
 * Command-line options generated from a tool's zod input schema, so the CLI and the MCP tool can
 * never disagree: `framework_args` becomes `--framework-args`, booleans become switches, numbers
 * are parsed and checked as integers, enums list their choices; the schema's description is the help.
 */
type AnySchema = z.ZodType & {
  def: { type: string; innerType?: AnySchema; options?: unknown; entries?: Record<string, string> };
};

function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  while (
    ['optional', 'default', 'nullable', 'prefault'].includes(current.def.type) &&
    current.def.innerType
  ) {
    current = current.def.innerType;
  }
  return current;
}

export function toFlag(field: string): string {
  return `--${field.replaceAll('_', '-')}`;
}

export function toField(attribute: string): string {
  return attribute.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Add one option per field of `shape` (except `skip`) to `command`. */
export function addSchemaOptions(
  command: Command,
  shape: Record<string, z.ZodType>,
  skip: readonly string[] = [],
): Command {
  for (const [field, raw] of Object.entries(shape)) {
    if (skip.includes(field)) continue;
    const schema = unwrap(raw as AnySchema);
    const description = (raw.description ?? schema.description ?? '').replace(/\s+/g, ' ');
    const flag = toFlag(field);
    switch (schema.def.type) {
      case 'boolean':
        command.addOption(new Option(flag, description));
        break;
      case 'number': {
        const isInteger = (schema as { format?: string | null }).format?.includes('int') === true;
        command.addOption(
          new Option(`${flag} <n>`, description).argParser(
            isInteger ? parseInteger(flag) : parseNumber(flag),
          ),
        );
        break;
      }
      case 'enum':
        command.addOption(
          new Option(`${flag} <value>`, description).choices(Object.values(schema.def.entries ?? {})),
        );
        break;
      default:
        command.addOption(new Option(`${flag} <value>`, description));
    }
  }
  return command;
}

/** The parsed options of `command` as tool arguments (snake_case), only those given. */
export function schemaArguments(
  options: Record<string, unknown>,
  shape: Record<string, z.ZodType>,
): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const [attribute, value] of Object.entries(options)) {
    const field = toField(attribute);
    if (field in shape && value !== undefined) args[field] = value;
  }
  return args;
}

function parseInteger(flag: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value.trim())) {
      throw new InvalidArgumentError(`${flag} expects a whole number, got '${value}'.`);
    }
    return Number(value);
  };
}

function parseNumber(flag: string) {
  return (value: string): number => {
    const number = Number(value.trim());
    if (value.trim() === '' || !Number.isFinite(number)) {
      throw new InvalidArgumentError(`${flag} expects a number (e.g. 8e9), got '${value}'.`);
    }
    return number;
  };
}
