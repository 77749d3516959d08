import type { z } from 'zod';
import type { CatalogModelSchema } from '../../tools/list-models.js';
import type { ParsedValues } from './argparse.js';
import type { Asker } from './asker.js';
import type { ToolCaller } from './context.js';
import { printErr } from './print.js';

type CatalogModel = z.infer<typeof CatalogModelSchema>;

/** SML's check of `--time` in `preconfigured`. */
const SML_TIME = /^[0-9]{1,2}:[0-5][0-9]:[0-5][0-9]$/;

/**
 * What SML's `preconfigured` asks on a terminal when its flags leave it out: the system when none
 * is configured, the model (from the catalog, by number or id), its engine when the catalog has
 * several, the replicas, the router for several replicas, and the time. Enter takes the default
 * shown. Fills `values` in place, as if the flags had been given.
 */
export async function askPreconfigured(
  values: ParsedValues,
  given: readonly string[],
  tools: ToolCaller,
  asker: Asker,
): Promise<void> {
  if (values.system === undefined && !tools.config.defaults.system) {
    values.system = await asker.ask('System', { choices: tools.config.systems.map((system) => system.name) });
  }
  const { structured } = await tools.call<{ models: CatalogModel[] }>('list_models', {});
  if (values.model === undefined) values.model = await askModel(structured.models, asker);
  const frameworks = [
    ...new Set(structured.models.filter((entry) => entry.model === values.model).map((m) => m.framework)),
  ];
  if (!given.includes('framework') && frameworks.length > 1) {
    values.framework = await asker.ask('Framework', { choices: frameworks, defaultValue: frameworks[0] });
  }
  if (!given.includes('replicas')) {
    const replicas = await asker.ask('Replicas', {
      defaultValue: String(values.replicas),
      check: (answer) => (/^[1-9][0-9]*$/.test(answer) ? undefined : 'Give a whole number above 0.'),
    });
    values.replicas = Number(replicas);
  }
  if (!given.includes('router') && (values.replicas as number) > 1) {
    values.router = await asker.ask('Router', {
      choices: ['opentela', 'sglang'],
      defaultValue: String(values.router),
    });
  }
  if (!given.includes('time')) {
    values.time = await asker.ask('Time (HH:MM:SS)', {
      defaultValue: String(values.time),
      check: (answer) => (SML_TIME.test(answer) ? undefined : 'Give the time as HH:MM:SS, e.g. 03:00:00.'),
    });
  }
}

/** The catalog's models, numbered; the answer is a number of the list or a model id. */
async function askModel(entries: readonly CatalogModel[], asker: Asker): Promise<string> {
  const frameworksOf = new Map<string, string[]>();
  for (const entry of entries)
    frameworksOf.set(entry.model, [...(frameworksOf.get(entry.model) ?? []), entry.framework]);
  const models = [...frameworksOf.keys()];
  const width = String(models.length).length;
  printErr(
    [
      'Catalog models:',
      ...models.map(
        (model, i) => `  ${String(i + 1).padStart(width)}  ${model} (${frameworksOf.get(model)!.join(', ')})`,
      ),
    ].join('\n'),
  );
  const byAnswer = (answer: string) =>
    /^[0-9]+$/.test(answer)
      ? models[Number(answer) - 1]
      : models.find((model) => model.toLowerCase() === answer.toLowerCase());
  const answer = await asker.ask(`Model [1-${models.length} or a model id]`, {
    check: (typed) =>
      byAnswer(typed) ? undefined : `Give a number from 1 to ${models.length} or a model id of the list.`,
  });
  return byAnswer(answer)!;
}
