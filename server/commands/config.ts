import type { Command } from 'commander';
import { describeConfig, loadConfig } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/schema.js';

/** `sml-mcp config schema|show`: the config file's JSON Schema, and where the settings come from. */
export function registerConfigCommand(program: Command): Command {
  const config = program.command('config').description('Inspect the sml-mcp configuration');
  config
    .command('schema')
    .description('Print the JSON Schema of the config file ($SML_CONFIG_DIR/mcp.json or ~/.sml/mcp.json)')
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
  config
    .command('show')
    .description('Show the config file in use, the launch defaults and where each comes from')
    .option('--config <path>', 'config file to read')
    .action((options: { config?: string }) => {
      process.stdout.write(`${describeConfig(loadConfig({ flags: { configPath: options.config } }))}\n`);
    });
  return config;
}
