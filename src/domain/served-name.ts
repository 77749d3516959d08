import { SmlError } from '../errors.js';
import type { Framework } from './framework.js';

/**
 * Served-model-name namespacing, as SML 3.10 does it and fixed: the name is `<user>/<vendor>/<model>`;
 * both `--served-model-name X` and `--served-model-name=X` inside framework args are recognised and
 * rewritten, and the name is injected when absent, so the engine and OpenTela always agree.
 */

export const SERVED_NAME_FLAG = '--served-model-name';
/** Longer names are no model name: clients show them in lists and send them in every request. */
export const MAX_SERVED_NAME_LENGTH = 256;

/** `<user>/<vendor>/<model>`: names with fewer than 3 segments get `<user>/` prepended. */
export function namespaceServedModelName(name: string, user: string): string {
  if (user === '' || user.includes('/') || /\s/.test(user)) {
    throw new SmlError('INVALID_ARGUMENT', `User name '${user}' cannot namespace a served model name.`, {
      hint: 'The user name must be non-empty without slashes or spaces; check the cluster identity (whoami).',
    });
  }
  if (name.length > MAX_SERVED_NAME_LENGTH) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `Served model name '${name.slice(0, 60)}…' is ${name.length} characters long; at most ${MAX_SERVED_NAME_LENGTH} are accepted.`,
      { hint: 'Give a short name such as swiss-ai/Apertus-8B-Instruct-2509.' },
    );
  }
  if (name === '' || name.startsWith('/') || name.endsWith('/') || name.includes('//')) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `Served model name '${name}' is not valid: expected <vendor>/<model> (or <user>/<vendor>/<model>) with no empty segment.`,
      { hint: 'Give a name such as swiss-ai/Apertus-8B-Instruct-2509.' },
    );
  }
  const segments = name.split('/');
  if (segments.length < 3) return `${user}/${name}`;
  if (segments[0] !== user) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `Served model name '${name}' is namespaced under '${segments[0]}', but this job is submitted by '${user}'.`,
      {
        hint: `Launch it as ${user}/${segments.slice(1).join('/')} or drop the namespace and let sml-mcp add it.`,
      },
    );
  }
  return name;
}

interface ServedNameOccurrence {
  /** Index of the flag token in argv. */
  index: number;
  /** True for the `--served-model-name=X` form. */
  isInline: boolean;
  names: string[];
}

function findOccurrences(argv: readonly string[], framework: Framework): ServedNameOccurrence[] {
  const found: ServedNameOccurrence[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token.startsWith(`${SERVED_NAME_FLAG}=`)) {
      found.push({ index: i, isInline: true, names: [token.slice(SERVED_NAME_FLAG.length + 1)] });
    } else if (token === SERVED_NAME_FLAG) {
      // vLLM takes several names (nargs '+'); sglang exactly one.
      const names: string[] = [];
      let j = i + 1;
      while (j < argv.length && !argv[j]!.startsWith('-') && (framework === 'vllm' || names.length === 0)) {
        names.push(argv[j]!);
        j++;
      }
      if (names.length === 0) {
        throw new SmlError('INVALID_ARGUMENT', `framework_args has ${SERVED_NAME_FLAG} without a name.`, {
          hint: `Write ${SERVED_NAME_FLAG} <vendor>/<model>, or drop it and set served_model_name.`,
        });
      }
      found.push({ index: i, isInline: false, names });
    }
  }
  return found;
}

/** The served names given inside framework args (vLLM may list several), or undefined. */
export function findServedModelNames(argv: readonly string[], framework: Framework): string[] | undefined {
  const found = findOccurrences(argv, framework);
  if (found.length > 1) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      `framework_args gives ${SERVED_NAME_FLAG} ${found.length} times.`,
      {
        hint: `Give it once (or use served_model_name instead).`,
      },
    );
  }
  return found[0]?.names;
}

/** argv with its first served name replaced by `servedName` (other vLLM names kept), or `--served-model-name servedName` prepended. */
export function withServedModelName(
  argv: readonly string[],
  framework: Framework,
  servedName: string,
): string[] {
  const [occurrence] = findOccurrences(argv, framework);
  if (!occurrence) return [SERVED_NAME_FLAG, servedName, ...argv];
  const result = [...argv];
  if (occurrence.isInline) result[occurrence.index] = `${SERVED_NAME_FLAG}=${servedName}`;
  else result[occurrence.index + 1] = servedName;
  return result;
}

export interface ResolvedServedName {
  /** The namespaced name the engine serves and OpenTela registers. */
  servedModelName: string;
  /** Further names vLLM serves too (kept as given). */
  aliases: string[];
  /** The framework args with the served name rewritten or injected. */
  argv: string[];
}

/**
 * Decide the served name from (in order) the explicit field, the framework args, or the catalog
 * model id; namespace it; rewrite or inject it into the framework args.
 */
export function resolveServedModelName(input: {
  explicit?: string;
  argv: readonly string[];
  fallback?: string;
  user: string;
  framework: Framework;
}): ResolvedServedName {
  const inArgs = findServedModelNames(input.argv, input.framework);
  const chosen = input.explicit ?? inArgs?.[0] ?? input.fallback;
  if (chosen === undefined) {
    throw new SmlError(
      'INVALID_ARGUMENT',
      'No served model name: a launch by model path needs served_model_name.',
      {
        hint: `Set served_model_name (e.g. my-org/my-model), or pass ${SERVED_NAME_FLAG} inside framework_args.`,
      },
    );
  }
  const servedModelName = namespaceServedModelName(chosen, input.user);
  if (input.explicit !== undefined && inArgs?.[0] !== undefined) {
    const fromArgs = namespaceServedModelName(inArgs[0], input.user);
    if (fromArgs !== servedModelName) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `served_model_name '${input.explicit}' and ${SERVED_NAME_FLAG} '${inArgs[0]}' in framework_args disagree.`,
        {
          hint: `Give the name once: set served_model_name and remove ${SERVED_NAME_FLAG} from framework_args.`,
        },
      );
    }
  }
  return {
    servedModelName,
    aliases: inArgs?.slice(1) ?? [],
    argv: withServedModelName(input.argv, input.framework, servedModelName),
  };
}
