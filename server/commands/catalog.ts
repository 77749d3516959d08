import type { Command } from 'commander';
import { listModelsTool } from '../../tools/list-models.js';
import { listSystemsTool } from '../../tools/list-systems.js';
import { addSchemaOptions, schemaArguments } from './flags.js';
import { printJson, printOut } from './print.js';
import { runCommand } from './run.js';

interface ModelsResult {
  models: { model: string; framework: string; nodes_per_replica: number }[];
  total: number;
}

/** `sml-mcp models` (list_models) and `sml-mcp systems` (list_systems). */
export function registerCatalogCommands(program: Command): void {
  const models = program.command('models').description('List the model catalog (models launchable by id)');
  addSchemaOptions(models, listModelsTool.input.shape);
  models.action(async (options: Record<string, unknown>) =>
    runCommand(program, async (tools, global) => {
      const { structured } = await tools.call<ModelsResult>(
        'list_models',
        schemaArguments(options, listModelsTool.input.shape),
      );
      if (global.json) return printJson(structured);
      const width = Math.max(5, ...structured.models.map((m) => m.model.length));
      printOut(
        [
          `${'MODEL'.padEnd(width)}  FRAMEWORK  NODES/REPLICA`,
          ...structured.models.map(
            (m) => `${m.model.padEnd(width)}  ${m.framework.padEnd(9)}  ${m.nodes_per_replica}`,
          ),
          `${structured.models.length} of ${structured.total} catalog entries`,
        ].join('\n'),
      );
    }),
  );

  const systems = program
    .command('systems')
    .description(
      'List the systems (clusters) sml-mcp knows, with partitions and reservations when reachable',
    );
  // --system is the global option: it names the one system to list.
  addSchemaOptions(systems, listSystemsTool.input.shape, ['system']);
  systems.action(async (options: Record<string, unknown>) =>
    runCommand(program, async (tools, global) => {
      const { structured, text } = await tools.call('list_systems', {
        ...schemaArguments(options, listSystemsTool.input.shape),
        ...(global.system ? { system: global.system } : {}),
      });
      if (global.json) return printJson(structured);
      printOut(text);
    }),
  );
}
