import { describe, expect, it } from 'vitest';
import { BUILT_IN_SYSTEMS, SystemProfile } from '../../src/domain/system.js';

// The built-in profiles are written out whole instead of parsed at start-up: each must be a valid
// profile that parsing leaves unchanged (no default it forgot, no value the schema would refuse).
describe('built-in system profiles', () => {
  it.each(BUILT_IN_SYSTEMS.map((system) => [system.name, system] as const))(
    '%s parses to itself',
    (_, system) => {
      expect(SystemProfile.parse(system)).toEqual(system);
    },
  );

  it('have unique names', () => {
    const names = BUILT_IN_SYSTEMS.map((system) => system.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
