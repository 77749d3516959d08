import { type Command, InvalidArgumentError, Option } from 'commander';
import { SmlError } from '../../src/errors.js';
import { printJson, printOut } from './print.js';
import { runCommand } from './run.js';

/**
 * `sml-mcp size MODEL [--gpu G | --system S] [--framework F] [--context N] [--concurrency C]
 * [--objective O]`: the size_model tool — how many GPUs and which layout, before anything is queued.
 */
export function registerSizeCommand(program: Command): void {
  program
    .command('size')
    .description(
      'How many GPUs and which parallel layout a model needs (catalog id, Hugging Face id, folder or config.json)',
    )
    .argument(
      '<model>',
      'Catalog id, Hugging Face id, a directory holding config.json, or the path of a config.json',
    )
    .option('--gpu <type>', 'GPU type instead of a system: GH200, A100-40GB, A100-80GB, H100, H200, MI300A')
    .option(
      '--gpus-per-node <n>',
      'GPUs per node (default from the system or GPU type)',
      positiveInteger('--gpus-per-node'),
    )
    .addOption(new Option('--framework <name>', 'Engine to size for').choices(['sglang', 'vllm']))
    .option('--context <tokens>', 'Target context length per request', positiveInteger('--context'))
    .option('--concurrency <n>', 'Requests served at once at that context', positiveInteger('--concurrency'))
    .addOption(new Option('--objective <goal>', 'What to optimise').choices(['latency', 'throughput']))
    .action(
      async (
        model: string,
        options: {
          gpu?: string;
          gpusPerNode?: number;
          framework?: string;
          context?: number;
          concurrency?: number;
          objective?: string;
        },
      ) =>
        runCommand(program, async (tools, global) => {
          if (options.gpu && global.system) {
            throw new SmlError('INVALID_ARGUMENT', 'Give --gpu or --system, not both.', {
              hint: '--gpu sizes for a GPU type, --system for a cluster profile.',
            });
          }
          const { structured, text } = await tools.call('size_model', {
            model,
            system: options.gpu ? undefined : global.system,
            gpu: options.gpu,
            gpus_per_node: options.gpusPerNode,
            framework: options.framework,
            context_length: options.context,
            concurrency: options.concurrency,
            objective: options.objective,
          });
          if (global.json) return printJson(structured);
          printOut(text);
        }),
    );
}

function positiveInteger(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1)
      throw new InvalidArgumentError(`${flag} expects a positive whole number, got '${value}'.`);
    return Number(value);
  };
}
