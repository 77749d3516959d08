import { describe, expect, it } from 'vitest';
import { formatValidationTable, validateCatalogSizing } from '../../bench/sizing-validation.js';

describe('sizing vs the catalog on clariden', async () => {
  const rows = await validateCatalogSizing();
  const sized = rows.filter((row) => row.status === 'sized');

  it('sizes every catalog model with sourced facts, and says why the others are skipped', () => {
    expect(sized.length).toBeGreaterThanOrEqual(20);
    for (const row of rows.filter((r) => r.status === 'skipped'))
      expect(row.note).toMatch(/^skipped: .{10,}/);
  });

  it.each(sized.map((row) => [`${row.model} (${row.framework})`, row] as const))(
    '%s fits in no more GPUs than the catalog uses, or the difference is explained',
    (_name, row) => {
      const result = row.result!;
      expect(result.fits).toBe(true);
      expect(result.layout.gpus_per_replica).toBeLessThanOrEqual(row.realGpus);
      expect(row.isWithinCatalog).toBe(true);
      // Every row says why it differs from (or matches) the catalog.
      expect(row.note).toMatch(/same GPUs as the catalog|smaller:|catalog runs/);
    },
  );

  it('recommends the catalog layout for the large multi-node models', () => {
    const gpus = (model: string) => sized.find((row) => row.model === model)?.result?.layout.gpus_per_replica;
    expect(gpus('moonshotai/Kimi-K2.5')).toBe(16);
    expect(gpus('zai-org/GLM-5')).toBe(32);
    expect(gpus('zai-org/GLM-5-FP8')).toBe(16);
    expect(gpus('Qwen/Qwen3-235B-A22B-Instruct-2507')).toBe(8);
    expect(gpus('Qwen/Qwen3.5-397B-A17B')).toBe(16);
  });

  it('prints a table with one line per catalog entry and a summary', () => {
    const table = formatValidationTable(rows);
    expect(
      table.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Model')),
    ).toHaveLength(rows.length);
    expect(table).toMatch(/\d+ of \d+ fit within the catalog's GPUs/);
  });
});
