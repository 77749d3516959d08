import type { Command } from 'commander';
import { type ConfigFlags, describeConfig, loadConfig } from '../../src/config/load.js';
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
    .action((_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ConfigFlags>();
      process.stdout.write(`${describeConfig(loadConfig({ flags }))}\n`);
    });
  return config;
}
