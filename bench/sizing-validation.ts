import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadShippedCatalog } from '../src/catalog/catalog.js';
import { toArgv } from '../src/domain/framework-args.js';
import { formatTokens, type SizeModelResult, sizeModel } from '../src/sizing/index.js';
import { MODEL_CONFIGS_DIR } from '../src/sizing/source.js';

/**
 * Sizing validation: size every catalog model that has sourced facts (a fixture config in
 * assets/model-configs) for clariden with the catalog's framework, and compare with the layout
 * the catalog really runs there (nodes_per_replica × 4 GH200, tp from its framework args).
 * Each recommendation must fit and use no more GPUs than the real deployment; every difference is
 * explained in the table. Run: `npm run build && node dist/bench/sizing-validation.js`.
 */

export const FIXTURES_DIR = MODEL_CONFIGS_DIR;
const CLARIDEN_GPUS_PER_NODE = 4;

interface PublishedFacts {
  model: string;
  total_params: number | null;
  within_3_percent: boolean;
  gap?: string;
}

/** Catalog models without a fixture, and why (what model-facts.json lacks). */
const SKIP_REASONS: Record<string, string> = {
  'google/gemma-3-27b-it': 'only the total parameter count is sourced (no layers, heads or KV heads)',
  'swiss-ai/Apertus-70B-Instruct-2509': 'hidden_size and num_key_value_heads are not sourced',
  'swiss-ai/Apertus-1.5-8B-gbs512-mbs1-steps8030': 'private research checkpoint: no stored config',
  'swiss-ai/Apertus-1.5-8B-Instruct': 'private research checkpoint: no stored config',
  'swiss-ai/Apertus-1.5-8B-cooldown-lr-1e-5-step9688': 'private research checkpoint: no stored config',
  'swiss-ai/Apertus-1.5-8B-cooldown-lr-8e-5-step9688': 'private research checkpoint: no stored config',
  'Qwen/Qwen3-ASR-1.7B': 'speech model: no architecture facts sourced',
  'Qwen/Qwen3-TTS-12Hz-1.7B-VoiceDesign': 'TTS pipeline (vllm-omni): LLM sizing facts do not apply',
  'FunAudioLLM/Fun-CosyVoice3-0.5B-2512': 'TTS pipeline (vllm-omni): LLM sizing facts do not apply',
};

export interface ValidationRow {
  model: string;
  framework: 'sglang' | 'vllm';
  status: 'sized' | 'skipped';
  /** GPUs of one catalog replica on clariden (nodes_per_replica × 4). */
  realGpus: number;
  realTp: number;
  realDp: number;
  realEp: number;
  result?: SizeModelResult;
  /** fits and no more GPUs than the catalog. */
  isWithinCatalog: boolean;
  note: string;
}

function optionValue(argv: readonly string[], names: readonly string[]): number | undefined {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    for (const name of names) {
      if (token === name && i + 1 < argv.length) return Number(argv[i + 1]);
      if (token.startsWith(`${name}=`)) return Number(token.slice(name.length + 1));
    }
  }
  return undefined;
}

function fixtureDir(model: string): string {
  return join(FIXTURES_DIR, model.replace('/', '__'));
}

function loadPublished(): Record<string, PublishedFacts> {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, 'published.json'), 'utf8')) as Record<
    string,
    PublishedFacts
  >;
}

/** Whether a fixture config gives no MLP size: its parameters cannot be counted, the published total is used. */
function lacksMlpSize(dir: string): boolean {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const text = (config.text_config as Record<string, unknown> | undefined) ?? config;
  return text.intermediate_size === undefined && text.moe_intermediate_size === undefined;
}

function explainRow(row: Omit<ValidationRow, 'note' | 'isWithinCatalog'>, result: SizeModelResult): string {
  const { layout } = result;
  const notes: string[] = [];
  if (!result.fits) notes.push(`does not fit: ${result.warnings.at(-1) ?? ''}`);
  const perGpuWeights = `${(result.weights_bytes_per_gpu / 2 ** 30).toFixed(1)} GiB weights/GPU`;
  if (layout.gpus_per_replica < row.realGpus) {
    if (row.realDp > 1) {
      notes.push(
        `catalog runs ${row.realDp} data-parallel replicas of tp ${row.realTp} in the node; sized as ${layout.replicas_per_node} packed replica(s) of ${layout.gpus_per_replica} GPU(s)`,
      );
    } else if (row.realTp === 1 && row.realGpus > 1) {
      notes.push(
        `catalog runs one tp-1 engine on an exclusive ${row.realGpus}-GPU node (3 GPUs idle); sized packs ${layout.replicas_per_node} per node`,
      );
    } else {
      notes.push(
        `smaller: ${perGpuWeights} leaves ${(result.memory_per_gpu.kv_pool_bytes / 2 ** 30).toFixed(1)} GiB KV/GPU at tp ${layout.tp} (${result.max_concurrency} × ${formatTokens(result.target.context_length)} requests); the catalog's ${row.realGpus} GPUs buy headroom and lower latency`,
      );
    }
    if (row.realEp > 1 && layout.ep === 1)
      notes.push(`catalog's --ep-size ${row.realEp} is needed at tp ${row.realTp} only`);
  } else if (layout.gpus_per_replica === row.realGpus) {
    notes.push(`same GPUs as the catalog (${perGpuWeights})`);
  } else {
    notes.push(`MORE GPUs than the catalog: ${result.warnings.join(' ')}`);
  }
  if (result.model.weights_source === 'parameter_count')
    notes.push('weights from the published total (config lacks MLP sizes)');
  if (result.model.missing_facts.some((m) => m.startsWith('linear_')))
    notes.push('linear-attention sizes not sourced');
  if (!result.model.quantization && result.model.notes.some((n) => n.startsWith('torch_dtype absent'))) {
    notes.push('dtype not sourced: bfloat16 assumed');
  }
  if (result.model.multimodal && result.model.notes.some((n) => n.includes('only the language model'))) {
    notes.push('language model only (vision tower not sourced)');
  }
  return notes.join('; ');
}

/** Size every catalog model with sourced facts against its real clariden deployment. */
export async function validateCatalogSizing(): Promise<ValidationRow[]> {
  const catalog = loadShippedCatalog();
  const published = loadPublished();
  const rows: ValidationRow[] = [];
  for (const entry of catalog.entries) {
    const argv = toArgv(entry.framework_args);
    const realTp = optionValue(argv, ['--tp-size', '--tensor-parallel-size']) ?? 1;
    const realDp = optionValue(argv, ['--dp-size', '--data-parallel-size']) ?? 1;
    const realEp = optionValue(argv, ['--ep-size']) ?? 1;
    const base = {
      model: entry.model,
      framework: entry.framework,
      realGpus: entry.nodes_per_replica * CLARIDEN_GPUS_PER_NODE,
      realTp,
      realDp,
      realEp,
    };
    const dir = fixtureDir(entry.model);
    const facts = published[entry.model.replace('/', '__')];
    if (!existsSync(join(dir, 'config.json')) || !facts) {
      rows.push({
        ...base,
        status: 'skipped',
        isWithinCatalog: false,
        note: `skipped: ${SKIP_REASONS[entry.model] ?? 'no sourced architecture facts'}`,
      });
      continue;
    }
    const context = optionValue(argv, ['--context-length', '--max-model-len']);
    const result = await sizeModel(
      {
        model: dir,
        system: 'clariden',
        framework: entry.framework,
        context_length: context,
        parameter_count: lacksMlpSize(dir) && facts.total_params ? facts.total_params : undefined,
        speculative_decoding: argv.includes('--speculative-algorithm'),
      },
      { hub: false },
    );
    const row = { ...base, status: 'sized' as const, result };
    rows.push({
      ...row,
      isWithinCatalog: result.fits && result.layout.gpus_per_replica <= base.realGpus,
      note: explainRow(row, result),
    });
  }
  return rows;
}

function describeLayout(result: SizeModelResult): string {
  const { layout } = result;
  const parts = [`tp${layout.tp}`];
  if (layout.pp > 1) parts.push(`pp${layout.pp}`);
  if (layout.ep > 1) parts.push(`ep${layout.ep}`);
  if (layout.replicas_per_node > 1) parts.push(`×${layout.replicas_per_node}/node`);
  return `${layout.gpus_per_replica} GPU ${parts.join(' ')}`;
}

/** The validation table as Markdown. */
export function formatValidationTable(rows: readonly ValidationRow[]): string {
  const lines = [
    '| Model | Fw | Catalog on clariden | Sized | Weights/GPU | KV pool/GPU | KV capacity | Fits | ≤ catalog | Note |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const real = `${row.realGpus} GPU tp${row.realTp}${row.realDp > 1 ? ` dp${row.realDp}` : ''}${row.realEp > 1 ? ` ep${row.realEp}` : ''}`;
    const r = row.result;
    lines.push(
      r
        ? `| ${row.model} | ${row.framework} | ${real} | ${describeLayout(r)} | ${(r.weights_bytes_per_gpu / 2 ** 30).toFixed(1)} GiB | ${(r.memory_per_gpu.kv_pool_bytes / 2 ** 30).toFixed(1)} GiB | ${formatTokens(r.kv_capacity_tokens)} | ${r.fits ? 'yes' : 'no'} | ${row.isWithinCatalog ? 'yes' : 'NO'} | ${row.note} |`
        : `| ${row.model} | ${row.framework} | ${real} | – | – | – | – | – | – | ${row.note} |`,
    );
  }
  const sized = rows.filter((r) => r.status === 'sized');
  const within = sized.filter((r) => r.isWithinCatalog);
  const fewer = sized.filter((r) => r.result && r.result.layout.gpus_per_replica < r.realGpus);
  lines.push(
    '',
    `${sized.length} of ${rows.length} catalog entries sized (${rows.length - sized.length} skipped for lack of sourced facts); ` +
      `${within.length} of ${sized.length} fit within the catalog's GPUs, ${fewer.length} with fewer GPUs.`,
  );
  return lines.join('\n');
}

async function main(): Promise<void> {
  const rows = await validateCatalogSizing();
  process.stdout.write(
    "# Sizing validation: sml-mcp size_model vs the catalog's clariden layouts (4 × GH200 96 GiB per node)\n\n" +
      "Defaults: context = model maximum up to 32k tokens (or the catalog's --context-length/--max-model-len), 8 concurrent requests, objective throughput.\n\n",
  );
  process.stdout.write(`${formatValidationTable(rows)}\n`);
  const failures = rows.filter((r) => r.status === 'sized' && !r.isWithinCatalog);
  if (failures.length > 0) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
