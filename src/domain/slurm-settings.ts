import { SmlError } from '../errors.js';
import type { SystemProfile } from './system.js';

/**
 * Partition, account and reservation of a launch, resolved in this one place for every launch
 * path (MCP tool, CLI, render, dry run, chains, layout "auto"): the request (or the CLI's own
 * flag) → the configured default (command-line flag of the server/CLI, then `SML_*` environment,
 * then the config file) → the system profile → for the account, the user's default account as
 * looked up on the cluster. Each value says where it came from.
 */

export const SLURM_SETTING_KEYS = ['partition', 'account', 'reservation'] as const;
export type SlurmSettingKey = (typeof SLURM_SETTING_KEYS)[number];

/** Where a value came from: `cluster` = looked up on the cluster (account only); `unset` = none. */
export type SettingSource = 'request' | 'flag' | 'env' | 'file' | 'system' | 'cluster' | 'unset';

export interface SettingChoice {
  /** The value the job is submitted with; null = the option is left out of the job. */
  value: string | null;
  source: SettingSource;
  /** The origin for a person, e.g. "environment variable SML_ACCOUNT". */
  from: string;
}

export type SlurmSettings = Record<SlurmSettingKey, SettingChoice>;

/** Launch defaults from the configuration, with the origin of each (see src/config/load.ts). */
export interface ConfiguredDefaults {
  values: Partial<Record<SlurmSettingKey, string>>;
  sources: Partial<Record<SlurmSettingKey, 'flag' | 'env' | 'file'>>;
  /** The config file, named in `from`. */
  configPath?: string;
  /** Set when telemetry is switched off by configuration: where (e.g. "SML_TELEMETRY=0"). */
  telemetryOptOut?: string;
}

/** The account the cluster reports for the user; `problem` says why it could not be looked up. */
export interface ClusterAccount {
  name?: string;
  /** Where the name came from, e.g. "sacctmgr DefaultAccount". */
  from?: string;
  problem?: string;
}

export const SETTING_ENV_NAMES: Record<SlurmSettingKey, string> = {
  partition: 'SML_PARTITION',
  account: 'SML_ACCOUNT',
  reservation: 'SML_RESERVATION',
};

const SLURM_NAME = /^[A-Za-z0-9._-]+$/;

function describeConfigured(
  key: SlurmSettingKey,
  source: 'flag' | 'env' | 'file',
  configPath: string | undefined,
): string {
  if (source === 'flag') return `command-line flag --${key}`;
  if (source === 'env') return `environment variable ${SETTING_ENV_NAMES[key]}`;
  return `config file ${configPath ?? ''} (defaults.${key})`.replace('  ', ' ');
}

/**
 * Resolve the three settings. `clusterAccount` undefined means the cluster was not asked (a dry
 * run): an account that is not configured is then left to the cluster, and said so.
 */
export function resolveSlurmSettings(input: {
  request: Partial<Record<SlurmSettingKey, string>>;
  configured?: ConfiguredDefaults;
  system: SystemProfile;
  clusterAccount?: ClusterAccount;
}): { settings: SlurmSettings; warnings: string[] } {
  const { request, configured, system, clusterAccount } = input;
  const warnings: string[] = [];
  const pick = (key: SlurmSettingKey): SettingChoice => {
    if (request[key] !== undefined) return { value: request[key], source: 'request', from: 'the request' };
    const value = configured?.values[key];
    const source = configured?.sources[key];
    if (value !== undefined && value !== '' && source) {
      const from = describeConfigured(key, source, configured?.configPath);
      if (!SLURM_NAME.test(value)) {
        throw new SmlError('INVALID_ARGUMENT', `The ${key} '${value}' (from ${from}) is not a SLURM name.`, {
          hint: `Use letters, digits, dot, dash and underscore only, or override it with ${key} in the launch.`,
        });
      }
      return { value, source, from };
    }
    const profileValue = system[key];
    if (profileValue) return { value: profileValue, source: 'system', from: `system profile ${system.name}` };
    return { value: null, source: 'unset', from: 'not set' };
  };
  const partition = pick('partition');
  const reservation = pick('reservation');
  let account = pick('account');
  if (account.source === 'unset') {
    if (clusterAccount?.name && SLURM_NAME.test(clusterAccount.name)) {
      account = {
        value: clusterAccount.name,
        source: 'cluster',
        from: `your default account on ${system.name}${clusterAccount.from ? ` (${clusterAccount.from})` : ''}`,
      };
    } else if (clusterAccount === undefined) {
      account = { value: null, source: 'unset', from: `not set; looked up on ${system.name} at submit` };
    } else {
      const why = clusterAccount.problem ?? `'${clusterAccount.name ?? ''}' is not a SLURM account name`;
      warnings.push(
        `Your default SLURM account on ${system.name} could not be looked up (${why}); the job is submitted without --account, so SLURM charges your default account if it has one. Set account (or SML_ACCOUNT, or defaults.account in the config file) to choose it.`,
      );
      account = { value: null, source: 'unset', from: `not set; the look-up failed: ${why}` };
    }
  }
  return { settings: { partition, account, reservation }, warnings };
}

/** One line per setting, for people: `partition: debug (environment variable SML_PARTITION)`. */
export function describeSlurmSettings(settings: SlurmSettings): string[] {
  return SLURM_SETTING_KEYS.map((key) => {
    const choice = settings[key];
    return choice.value === null
      ? `${key}: none (${choice.from})`
      : `${key}: ${choice.value} (${choice.from})`;
  });
}
