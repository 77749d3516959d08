import type { Command } from 'commander';
import { SmlError } from '../../src/errors.js';
import { sizeModelTool } from '../../tools/size-model.js';
import { addSchemaOptions, schemaArguments } from './flags.js';
import { printJson, printOut } from './print.js';
import { runCommand } from './run.js';

const SHAPE = sizeModelTool.input.shape;

/**
 * `sml-mcp size MODEL [--gpu G | --system S] [...]`: the size_model tool, every input a flag
 * (derived from its schema) — how many GPUs and which layout, before anything is queued.
 */
export function registerSizeCommand(program: Command): void {
  const command = program
    .command('size')
    .description(
      'How many GPUs and which parallel layout a model needs (catalog id, Hugging Face id, folder or config.json)',
    )
    .argument('<model>', SHAPE.model.description ?? 'The model');
  // --system is a global option (it also sets the default for the other commands).
  addSchemaOptions(command, SHAPE, ['model', 'system']);
  command.action(async (model: string, options: Record<string, unknown>) =>
    runCommand(program, async (tools, global) => {
      if (options.gpu && global.system) {
        throw new SmlError('INVALID_ARGUMENT', 'Give --gpu or --system, not both.', {
          hint: '--gpu sizes for a GPU type, --system for a cluster profile.',
        });
      }
      const { structured, text } = await tools.call('size_model', {
        ...schemaArguments(options, SHAPE),
        model,
        ...(options.gpu ? {} : { system: global.system }),
      });
      if (global.json) return printJson(structured);
      printOut(text);
    }),
  );
}
