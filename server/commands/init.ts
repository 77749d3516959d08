import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type InitAnswers, type LauncherKind, writeInitFiles } from '../../src/config/init.js';
import { configDirFrom, configPathFrom, loadConfig } from '../../src/config/load.js';
import { readSmlConfig, type SmlConfigValues, type SmlSecretName } from '../../src/config/sml-import.js';
import { errorText, SmlError, toSmlError } from '../../src/errors.js';
import { type Asker, isTerminal, TerminalAsker } from './asker.js';
import { EXIT, printErr, printOut } from './print.js';

/**
 * `sml-mcp init`: set a user up in one command. Every value comes from its flag, else its
 * environment variable, else an imported SML config, else a question on the terminal; with no
 * terminal on stdin nothing is asked and a missing required value is an error naming the flag and
 * the variable (as SML's wizard). Secrets go to a 0600 secrets file, never into the config file.
 */

interface InitOptions {
  launcher?: string;
  system?: string;
  firecrestUrl?: string;
  firecrestTokenUri?: string;
  clusterSshHost?: string;
  sshHost?: string;
  partition?: string;
  account?: string;
  reservation?: string;
  importSml?: string | boolean;
}

const CSCS_FIRECREST_URL = 'https://api.cscs.ch/ml/firecrest/v2';
const CSCS_TOKEN_URI = 'https://auth.cscs.ch/auth/realms/firecrest-clients/protocol/openid-connect/token';

/** Secrets by SML node name → the environment variable sml-mcp reads them from. */
const SECRET_ENV: Record<SmlSecretName, string> = {
  firecrest_client_id: 'SML_FIRECREST_CLIENT_ID',
  firecrest_client_secret: 'SML_FIRECREST_CLIENT_SECRET',
  swissai_research_api_key: 'SML_SWISSAI_RESEARCH_API_KEY',
};

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description(
      'Set up sml-mcp: launcher, cluster access, credentials and launch defaults (asks on a terminal)',
    )
    .option(
      '--launcher <kind>',
      'firecrest (CSCS REST gateway), slurm (on a login node) or ssh (to a login node)',
    )
    .option('--firecrest-url <url>', `FirecREST URL; env SML_FIRECREST_URL (default ${CSCS_FIRECREST_URL})`)
    .option('--firecrest-token-uri <uri>', 'OIDC token endpoint; env SML_FIRECREST_TOKEN_URI (default CSCS)')
    .option(
      '--cluster-ssh-host <host>',
      'SSH alias of a login node for `sml-mcp shell` (FirecREST); env SML_CLUSTER_SSH_HOST',
    )
    .option('--ssh-host <host>', 'Login node for the ssh launcher')
    .option('--import-sml [path]', "Take over SML's settings from its config.yml (default ~/.sml/config.yml)")
    .addHelpText(
      'after',
      '\nThe global --system, --partition, --account and --reservation (or SML_SYSTEM, SML_PARTITION, …) set the defaults written.\nSecrets come from SML_FIRECREST_CLIENT_ID, SML_FIRECREST_CLIENT_SECRET (or SML_FIRECREST_API_KEY for a service account) and SML_SWISSAI_RESEARCH_API_KEY, or are asked for without echo.',
    )
    .action(async (_options: InitOptions, command: Command) => {
      // --system/--partition/--account/--reservation are also the program's global options.
      const options = command.optsWithGlobals<InitOptions>();
      const asker = isTerminal() ? new TerminalAsker() : undefined;
      try {
        const answers = await collectAnswers(options, process.env, asker);
        const configDir = configDirFrom(process.env);
        const configPath = configPathFrom(process.env);
        const { secretsPath } = writeInitFiles(answers, { configDir, configPath }, loadConfigSystems());
        printOut(
          [
            'sml-mcp is configured and ready to use.',
            `Config: ${configPath}`,
            `Secrets: ${secretsPath} (readable by you only)`,
            'Check it with `sml-mcp config show` and `sml-mcp systems`.',
          ].join('\n'),
        );
        process.exitCode = EXIT.ok;
      } catch (error) {
        printErr(errorText(error instanceof SmlError ? error : toSmlError(error)));
        process.exitCode = EXIT.error;
      } finally {
        asker?.close();
      }
    });
}

/** The systems known now (built-in and configured), without failing on a half-written config. */
function loadConfigSystems() {
  return loadConfig({ env: { ...process.env, SML_SYSTEM: '' } }).systems;
}

async function collectAnswers(
  options: InitOptions,
  env: NodeJS.ProcessEnv,
  asker: Asker | undefined,
): Promise<InitAnswers> {
  const imported = importedSml(options.importSml, env);
  const value = async (
    label: string,
    given: { flag?: string; flagValue?: string; envName?: string; imported?: string; defaultValue?: string },
    how: { choices?: readonly string[]; isRequired?: boolean; isSecret?: boolean } = {},
  ): Promise<string | undefined> => {
    const fromFlag = given.flagValue || (given.envName ? env[given.envName] : undefined) || given.imported;
    if (fromFlag) {
      if (how.choices && !how.choices.includes(fromFlag)) {
        throw new SmlError(
          'INVALID_ARGUMENT',
          `Invalid value '${fromFlag}' for ${label}. Valid options: ${how.choices.join(', ')}.`,
        );
      }
      return fromFlag;
    }
    if (asker) {
      const answer = await asker.ask(label, {
        defaultValue: given.defaultValue,
        choices: how.choices,
        isSecret: how.isSecret,
      });
      if (answer || !how.isRequired) return answer || undefined;
    } else if (given.defaultValue !== undefined) {
      return given.defaultValue;
    }
    if (!how.isRequired) return undefined;
    const ways = [given.flag && `pass ${given.flag}`, given.envName && `set ${given.envName}`]
      .filter(Boolean)
      .join(' or ');
    throw new SmlError('INVALID_ARGUMENT', `Missing required value: ${ways} (non-interactive mode).`, {
      hint: 'Run sml-mcp init on a terminal to be asked, or give every required value as a flag or variable.',
    });
  };

  const launcher = (await value(
    'Launcher (firecrest = CSCS REST gateway; slurm = you are on a login node; ssh = reach a login node over SSH)',
    { flag: '--launcher', flagValue: options.launcher, imported: imported?.launcher },
    { choices: ['firecrest', 'slurm', 'ssh'], isRequired: true },
  )) as LauncherKind;
  const system = (await value(
    'System',
    { flag: '--system', flagValue: options.system, envName: 'SML_SYSTEM', defaultValue: 'clariden' },
    { isRequired: true },
  ))!;
  const answers: InitAnswers = { launcher, system, secrets: {} };
  const secret = async (name: SmlSecretName, label: string, isRequired: boolean) => {
    const envName = SECRET_ENV[name];
    const inKeyring = imported?.inKeyring.includes(name) && !env[envName];
    if (inKeyring && !asker && !isRequired) {
      printErr(
        `warning: SML keeps ${name} in the OS keyring, which sml-mcp does not read; set ${envName} to use it.`,
      );
      return;
    }
    if (inKeyring && !asker) {
      throw new SmlError(
        'INVALID_ARGUMENT',
        `SML keeps ${name} in the OS keyring, which sml-mcp does not read.`,
        {
          hint: `Set ${envName} (or run sml-mcp init on a terminal to be asked).`,
        },
      );
    }
    const answer = await value(
      inKeyring ? `${label} (SML kept it in the keyring; enter it again)` : label,
      { envName, imported: imported?.secrets[name] },
      { isRequired, isSecret: true },
    );
    if (answer) answers.secrets[envName] = answer;
  };

  if (launcher === 'firecrest') {
    answers.firecrestUrl = await value('FirecREST URL', {
      flag: '--firecrest-url',
      flagValue: options.firecrestUrl,
      envName: 'SML_FIRECREST_URL',
      imported: imported?.firecrest_url,
      defaultValue: CSCS_FIRECREST_URL,
    });
    answers.firecrestTokenUri = await value('FirecREST token URI', {
      flag: '--firecrest-token-uri',
      flagValue: options.firecrestTokenUri,
      envName: 'SML_FIRECREST_TOKEN_URI',
      imported: imported?.firecrest_token_uri,
      defaultValue: CSCS_TOKEN_URI,
    });
    if (env.SML_FIRECREST_API_KEY) {
      // A service account (CI): its key replaces client credentials.
      answers.secrets.SML_FIRECREST_API_KEY = env.SML_FIRECREST_API_KEY;
    } else {
      await secret('firecrest_client_id', 'FirecREST client id (developer.svc.cscs.ch/devportal)', true);
      await secret('firecrest_client_secret', 'FirecREST client secret', true);
    }
    answers.clusterSshHost = await value('SSH alias of a login node, for sml-mcp shell (optional)', {
      flag: '--cluster-ssh-host',
      flagValue: options.clusterSshHost,
      envName: 'SML_CLUSTER_SSH_HOST',
      imported: imported?.cluster_ssh_host,
      defaultValue: '',
    });
  } else if (launcher === 'ssh') {
    answers.sshHost = await value(
      'SSH host of the login node',
      { flag: '--ssh-host', flagValue: options.sshHost },
      { isRequired: true },
    );
  }
  await secret(
    'swissai_research_api_key',
    'Serving API key (serving.swissai.svc.cscs.ch, "View API Keys"; optional)',
    false,
  );
  for (const key of ['partition', 'account', 'reservation'] as const) {
    answers[key] = await value(`Default ${key} (optional)`, {
      flag: `--${key}`,
      flagValue: options[key],
      envName: `SML_${key.toUpperCase()}`,
      defaultValue: '',
    });
  }
  return answers;
}

function importedSml(
  option: string | boolean | undefined,
  env: NodeJS.ProcessEnv,
): SmlConfigValues | undefined {
  if (option === undefined || option === false) return undefined;
  const path = typeof option === 'string' ? option : join(configDirFrom(env), 'config.yml');
  if (!existsSync(path)) {
    throw new SmlError('NOT_FOUND', `No SML config at ${path}.`, {
      hint: 'Give its path: --import-sml PATH, or leave --import-sml out.',
    });
  }
  return readSmlConfig(path);
}
