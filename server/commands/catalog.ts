import { type Command, Option } from 'commander';
import { printJson, printOut } from './print.js';
import { runCommand } from './run.js';

interface ModelsResult {
  models: { model: string; framework: string; nodes_per_replica: number }[];
  total: number;
}

/** `sml-mcp models` (list_models) and `sml-mcp systems` (list_systems). */
export function registerCatalogCommands(program: Command): void {
  program
    .command('models')
    .description('List the model catalog (models launchable by id)')
    .option('--search <text>', 'Only models whose id contains this text')
    .addOption(new Option('--framework <name>', 'Only recipes for this engine').choices(['sglang', 'vllm']))
    .action(async (options: { search?: string; framework?: string }) =>
      runCommand(program, async (tools, global) => {
        const { structured } = await tools.call<ModelsResult>('list_models', {
          search: options.search,
          framework: options.framework,
        });
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

  program
    .command('systems')
    .description('List the systems (clusters) sml-mcp knows, with partitions and reservations when reachable')
    .action(async () =>
      runCommand(program, async (tools, global) => {
        const { structured, text } = await tools.call('list_systems', {});
        if (global.json) return printJson(structured);
        printOut(text);
      }),
    );
}
