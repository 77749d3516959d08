import { z } from 'zod';
import { Framework } from '../domain/framework.js';
import { BRIEF } from '../published.js';

/**
 * The public shapes of the sizer: what `size_model` (tool), `sml-mcp size` (CLI) and
 * `launch layout:"auto"` pass in and get back. Plain JSON: no transforms, no Infinity, bytes as numbers.
 */

export const SizingObjective = z
  .enum(['latency', 'throughput'])
  .describe('throughput (default): fewest GPUs; latency: more tp');
export const KvCacheDtypeInput = z.enum(['auto', 'fp8']).describe('KV cache: auto = model dtype, or fp8');

export const SizeModelInput = z.strictObject({
  model: z.string().min(1).describe('Catalog id, Hugging Face id, or a config.json (or its folder)'),
  system: z.string().min(1).optional().describe('Default: the configured one'),
  gpu: z
    .string()
    .min(1)
    .optional()
    .describe('Instead of system: GH200, A100-40GB, A100-80GB, H100, H200, MI300A'),
  gpus_per_node: z.number().int().positive().max(64).optional().describe("Default: the system's or GPU's"),
  framework: Framework.optional().describe("Default: the catalog entry's, else sglang"),
  context_length: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Tokens per request. Default: model max, ≤ 32768'),
  concurrency: z.number().int().positive().max(100000).optional().describe('Requests at once. Default 8'),
  objective: SizingObjective.optional(),
  kv_cache_dtype: KvCacheDtypeInput.optional(),
  max_nodes: z.number().int().positive().max(256).optional().describe('Largest replica. Default 16'),
  // 10^15 parameters is far beyond any model; larger numbers overflow the memory estimate.
  parameter_count: z
    .number()
    .positive()
    .max(1e15)
    .optional()
    .describe('From the model card, over the estimate'),
  speculative_decoding: z.boolean().optional().describe('EAGLE/MTP on'),
});
export type SizeModelInput = z.infer<typeof SizeModelInput>;

export const LayoutSchema = z.object({
  gpus_per_replica: z.number().int().positive().describe('tp × pp'),
  nodes_per_replica: z.number().int().positive(),
  tp: z.number().int().positive(),
  pp: z.number().int().positive(),
  ep: z.number().int().positive().describe('1 = experts split by tp'),
  replicas_per_node: z.number().int().positive(),
});
export type SizingLayout = z.infer<typeof LayoutSchema>;

export const GpuMemorySchema = z.object({
  total_bytes: z.number(),
  engine_fraction: z.number().describe('sglang --mem-fraction-static or vLLM --gpu-memory-utilization'),
  weights_bytes: z.number(),
  reserved_bytes: z.number().describe('Activations, CUDA graphs, CUDA/NCCL context'),
  kv_pool_bytes: z.number().describe('Left for the KV cache; negative: the weights do not fit'),
});

export const MoeSummarySchema = z.object({
  experts: z.number().int(),
  experts_per_token: z.number().int(),
  shared_experts: z.number().int(),
  expert_intermediate_size: z.number().int(),
  moe_layers: z.number().int(),
});

export const ModelSummarySchema = z.object({
  id: z.string(),
  origin: z.enum(['local', 'registry', 'hub', 'catalog']).describe('Where the facts come from'),
  location: z.string().describe('Path or URL read'),
  model_type: z.string(),
  architectures: z.array(z.string()),
  attention: z.enum(['mha', 'gqa', 'mqa', 'mla']),
  layers: z.number().int(),
  full_attention_layers: z.number().int(),
  sliding_window_layers: z.number().int(),
  linear_attention_layers: z.number().int(),
  sliding_window: z.number().int().nullable(),
  hidden_size: z.number().int(),
  attention_heads: z.number().int(),
  kv_heads: z.number().int(),
  head_dim: z.number(),
  kv_lora_rank: z.number().int().nullable().describe('MLA latent rank'),
  moe: MoeSummarySchema.nullable(),
  total_params: z.number(),
  active_params: z.number(),
  params_source: z.enum(['architecture', 'parameter_count']),
  weights_source: z.enum(['architecture', 'safetensors_index', 'parameter_count']),
  dtype: z.string(),
  quantization: z
    .object({
      method: z.string(),
      format: z.string(),
      bits: z.number(),
      bytes_per_weight: z.number().describe('Scales included'),
      quantized_parts: z.array(z.string()),
    })
    .nullable(),
  max_position_embeddings: z.number().int().nullable(),
  tied_embeddings: z.boolean(),
  multimodal: z.boolean().describe('Only the language model is sized'),
  mtp_layers: z.number().int(),
  missing_facts: z.array(z.string()),
  notes: z.array(z.string()),
});
export type ModelSummary = z.infer<typeof ModelSummarySchema>;

export const AlternativeSchema = z.object({
  label: z.string(),
  description: z.string(),
  framework: Framework,
  fits: z.boolean(),
  layout: LayoutSchema,
  framework_args: z.array(z.string()),
  kv_capacity_tokens: z.number().int(),
  max_context_tokens: z.number().int(),
});
export type SizingAlternative = z.infer<typeof AlternativeSchema>;

export const SizeModelResult = z.object({
  model: ModelSummarySchema.meta({
    ...BRIEF,
    description: 'Architecture, attention, layers, MoE, parameters, dtype, quantization, missing facts',
  }),
  target: z
    .object({
      system: z.string().nullable(),
      gpu: z.string(),
      gpu_memory_gib: z.number(),
      gpus_per_node: z.number().int(),
      framework: Framework,
      context_length: z.number().int(),
      concurrency: z.number().int(),
      objective: SizingObjective,
      kv_cache_dtype: KvCacheDtypeInput,
    })
    .meta({ ...BRIEF, description: 'The inputs, defaults applied' }),
  fits: z.boolean().describe('Weights fit, KV cache holds context × concurrency'),
  layout: LayoutSchema.describe('Of one replica'),
  weights_bytes: z.number(),
  weights_bytes_per_gpu: z.number(),
  kv_bytes_per_token: z.number(),
  kv_bytes_per_token_per_gpu: z.number(),
  kv_bytes_per_request: z.number(),
  kv_capacity_tokens: z.number().int().describe('All requests together'),
  max_context_tokens: z.number().int().describe('Per request at the concurrency'),
  max_concurrency: z.number().int().describe('At the context length'),
  memory_per_gpu: GpuMemorySchema.meta({
    ...BRIEF,
    description: 'Fullest GPU: weights, reserved, KV pool (bytes)',
  }),
  framework_args: z.array(z.string()),
  launcher_adds: z.array(z.string()).describe('Added per node by the job'),
  catalog_recipe: z
    .object({
      framework: Framework,
      nodes_per_replica: z.number().int(),
      framework_args: z.string(),
    })
    .meta({ ...BRIEF, description: "The catalog's" })
    .nullable(),
  warnings: z.array(z.string()),
  explanation: z.string(),
  alternatives: z.array(AlternativeSchema).meta({
    ...BRIEF,
    description: 'fp8 KV cache, FP8 weights, latency, other engine: label, fits, layout, framework_args, …',
  }),
});
export type SizeModelResult = z.infer<typeof SizeModelResult>;
