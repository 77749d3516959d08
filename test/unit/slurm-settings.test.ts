import { describe, expect, it } from 'vitest';
import { describeSlurmSettings, resolveSlurmSettings } from '../../src/domain/slurm-settings.js';
import { SmlError } from '../../src/errors.js';
import { specsFor, systemNamed } from '../render/helpers.js';

const clariden = systemNamed('clariden');
const configured = {
  values: { partition: 'debug', account: 'a-env', reservation: 'r-file' },
  sources: { partition: 'flag', account: 'env', reservation: 'file' } as const,
  configPath: '/home/u/.sml/mcp.json',
};

describe('partition, account and reservation resolve in one order', () => {
  it('request over flag/env/file over system profile over the cluster account', () => {
    const { settings, warnings } = resolveSlurmSettings({
      request: { partition: 'normal' },
      configured,
      system: clariden,
      clusterAccount: { name: 'a-cluster', from: 'sacctmgr DefaultAccount' },
    });
    expect(settings.partition).toEqual({ value: 'normal', source: 'request', from: 'the request' });
    expect(settings.account).toMatchObject({
      value: 'a-env',
      source: 'env',
      from: 'environment variable SML_ACCOUNT',
    });
    expect(settings.reservation).toMatchObject({ value: 'r-file', source: 'file' });
    expect(settings.reservation.from).toContain('/home/u/.sml/mcp.json (defaults.reservation)');
    expect(warnings).toEqual([]);
  });

  it('a command-line flag is named as such', () => {
    const { settings } = resolveSlurmSettings({ request: {}, configured, system: clariden });
    expect(settings.partition).toEqual({
      value: 'debug',
      source: 'flag',
      from: 'command-line flag --partition',
    });
  });

  it('falls back to the system profile, then to the account the cluster reports', () => {
    const { settings, warnings } = resolveSlurmSettings({
      request: {},
      system: clariden,
      clusterAccount: { name: 'a-cluster', from: 'sacctmgr DefaultAccount' },
    });
    expect(settings.partition).toMatchObject({ value: 'normal', source: 'system' });
    expect(settings.account).toMatchObject({ value: 'a-cluster', source: 'cluster' });
    expect(settings.account.from).toContain('sacctmgr DefaultAccount');
    expect(settings.reservation).toMatchObject({ value: null, source: 'unset' });
    expect(warnings).toEqual([]);
  });

  it('an account that could not be looked up is a warning and no --account, never a guess', () => {
    const { settings, warnings } = resolveSlurmSettings({
      request: {},
      system: clariden,
      clusterAccount: { problem: 'sacctmgr failed: Connection refused' },
    });
    expect(settings.account).toMatchObject({ value: null, source: 'unset' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/could not be looked up \(sacctmgr failed: Connection refused\)/);
    expect(warnings[0]).toMatch(/SML_ACCOUNT/);
  });

  it('a dry run leaves the account to the cluster and says so, without a warning', () => {
    const { settings, warnings } = resolveSlurmSettings({ request: {}, system: clariden });
    expect(settings.account).toMatchObject({ value: null, source: 'unset' });
    expect(settings.account.from).toMatch(/looked up on clariden at submit/);
    expect(warnings).toEqual([]);
  });

  it('refuses a configured value that is not a SLURM name, naming where it came from', () => {
    const bad = { values: { account: 'a b' }, sources: { account: 'env' as const } };
    const attempt = () => resolveSlurmSettings({ request: {}, configured: bad, system: clariden });
    expect(attempt).toThrow(SmlError);
    expect(attempt).toThrow(/account 'a b' \(from environment variable SML_ACCOUNT\)/);
  });

  it("beverin's default partition is the one SML's beverin examples use", () => {
    const { settings } = resolveSlurmSettings({ request: {}, system: systemNamed('beverin') });
    expect(settings.partition.value).toBe('mi300');
  });

  it('reads as one line per setting', () => {
    const { settings } = resolveSlurmSettings({ request: {}, configured, system: clariden });
    expect(describeSlurmSettings(settings)).toEqual([
      'partition: debug (command-line flag --partition)',
      'account: a-env (environment variable SML_ACCOUNT)',
      'reservation: r-file (config file /home/u/.sml/mcp.json (defaults.reservation))',
    ]);
  });
});

describe('every job of a chain carries the resolved settings', () => {
  it('puts them on each job', () => {
    const specs = specsFor({
      model: 'swiss-ai/Apertus-8B-Instruct-2509',
      framework: 'sglang',
      time: '30:00:00',
      consecutive: true,
      reservation: 'r1',
    });
    expect(specs.length).toBeGreaterThan(1);
    for (const spec of specs) {
      expect(spec.slurm).toMatchObject({ partition: 'normal', account: 'a-infra01', reservation: 'r1' });
    }
  });
});
