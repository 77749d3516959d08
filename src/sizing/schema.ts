import { z } from 'zod';

/**
 * The public shapes of the sizer: what `size_model` (tool), `sml-mcp size` (CLI) and
 * `launch layout:"auto"` pass in and get back. Plain JSON: no transforms, no Infinity, bytes as numbers.
 */

export const SizingFramework = z.enum(['sglang', 'vllm']).describe('Inference engine: sglang or vllm');
export const SizingObjective = z
  .enum(['latency', 'throughput'])
  .describe(
    'throughput (default): the fewest GPUs per replica, small models packed several per node; latency: a whole node (or more) per replica, more tensor parallelism',
  );
export const KvCacheDtypeInput = z
  .enum(['auto', 'fp8'])
  .describe('KV-cache element type: auto = the model dtype (16-bit), fp8 = one byte per element');

export const SizeModelInput = z.object({
  model: z
    .string()
    .min(1)
    .describe(
      'Catalog id, Hugging Face id (vendor/name), a directory holding config.json, or the path of a config.json',
    ),
  system: z
    .string()
    .min(1)
    .optional()
    .describe(
      'System profile to size for (clariden, bristen, beverin, local or a configured one); its GPU and GPUs per node are used',
    ),
  gpu: z
    .string()
    .min(1)
    .optional()
    .describe(
      'GPU type instead of a system: GH200-96GB, A100-40GB, A100-80GB, H100-80GB, H200-141GB, MI300A-128GB (aliases like GH200, H100 work)',
    ),
  gpus_per_node: z
    .number()
    .int()
    .positive()
    .max(64)
    .optional()
    .describe('GPUs per node; default from the system or the GPU type'),
  framework: SizingFramework.optional().describe(
    "sglang or vllm; default: the catalog entry's framework, else sglang",
  ),
  context_length: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Target context length in tokens per request; default: the model maximum, at most 32768'),
  concurrency: z
    .number()
    .int()
    .positive()
    .max(100000)
    .optional()
    .describe('Requests served at once at the target context; default 8'),
  objective: SizingObjective.optional(),
  kv_cache_dtype: KvCacheDtypeInput.optional(),
  max_nodes: z
    .number()
    .int()
    .positive()
    .max(256)
    .optional()
    .describe('Largest replica to consider, in nodes; default 16'),
  parameter_count: z
    .number()
    .positive()
    .optional()
    .describe(
      'Total parameters when known from elsewhere (model card); replaces the estimate from the architecture',
    ),
  speculative_decoding: z
    .boolean()
    .optional()
    .describe('EAGLE/MTP speculative decoding will be on (sglang keeps 2 GiB more per GPU for the draft)'),
});
export type SizeModelInput = z.infer<typeof SizeModelInput>;

export const LayoutSchema = z.object({
  gpus_per_replica: z.number().int().positive().describe('GPUs one replica uses (tp × pp)'),
  nodes_per_replica: z
    .number()
    .int()
    .positive()
    .describe('Nodes one replica spans (1 when it fits in one node)'),
  tp: z.number().int().positive().describe('Tensor-parallel size'),
  pp: z.number().int().positive().describe('Pipeline-parallel size (vLLM across nodes)'),
  ep: z.number().int().positive().describe('Expert-parallel size (1 = experts sliced by tensor parallelism)'),
  replicas_per_node: z
    .number()
    .int()
    .positive()
    .describe('Replicas packed on one node (> 1 only for small models)'),
});
export type SizingLayout = z.infer<typeof LayoutSchema>;

export const GpuMemorySchema = z.object({
  total_bytes: z.number().describe('Memory of one GPU'),
  engine_fraction: z
    .number()
    .describe(
      'sglang --mem-fraction-static (its default for this GPU and tp) or vLLM --gpu-memory-utilization',
    ),
  weights_bytes: z.number().describe('Weights on the fullest GPU'),
  reserved_bytes: z
    .number()
    .describe('Kept by the engine and runtime: activations, CUDA graphs, CUDA/NCCL context'),
  kv_pool_bytes: z
    .number()
    .describe('Left for the KV cache on that GPU (negative when the weights do not fit)'),
});

export const MoeSummarySchema = z.object({
  experts: z.number().int().describe('Routed experts per MoE layer'),
  experts_per_token: z.number().int().describe('Routed experts each token uses'),
  shared_experts: z
    .number()
    .int()
    .describe('Always-active shared experts (0 when none, or a Qwen-style shared expert counted in size)'),
  expert_intermediate_size: z.number().int().describe('Intermediate size of one routed expert'),
  moe_layers: z.number().int().describe('Layers whose MLP is the expert block'),
});

export const ModelSummarySchema = z.object({
  id: z.string().describe('The model as given'),
  origin: z.enum(['local', 'registry', 'hub']).describe('Where config.json was read'),
  location: z.string().describe('Path or URL of the config.json read'),
  model_type: z
    .string()
    .describe('config.json model_type (the text model type in parentheses for multimodal configs)'),
  architectures: z.array(z.string()).describe('config.json architectures'),
  attention: z
    .enum(['mha', 'gqa', 'mqa', 'mla'])
    .describe('Attention kind: multi-head, grouped-query, multi-query, multi-head latent'),
  layers: z.number().int().describe('Decoder layers'),
  full_attention_layers: z.number().int().describe('Layers with a KV cache that grows with the context'),
  sliding_window_layers: z.number().int().describe('Layers whose KV cache is capped at the sliding window'),
  linear_attention_layers: z
    .number()
    .int()
    .describe('Linear-attention layers: a fixed state per request, no per-token KV'),
  sliding_window: z.number().int().nullable().describe('Sliding window in tokens, when the model has one'),
  hidden_size: z.number().int().describe('Hidden size'),
  attention_heads: z.number().int().describe('Query heads'),
  kv_heads: z.number().int().describe('Key/value heads'),
  head_dim: z.number().describe('Head dimension'),
  kv_lora_rank: z.number().int().nullable().describe('MLA latent rank (DeepSeek/Kimi/GLM-5), else null'),
  moe: MoeSummarySchema.nullable().describe('Mixture-of-experts shape, or null for a dense model'),
  total_params: z
    .number()
    .describe('Total parameters (estimate from the architecture, or parameter_count when given)'),
  active_params: z.number().describe('Parameters active per token (equals total_params for a dense model)'),
  params_source: z
    .enum(['architecture', 'parameter_count'])
    .describe('architecture: counted from config.json; parameter_count: given by the caller'),
  weights_source: z
    .enum(['architecture', 'safetensors_index', 'parameter_count'])
    .describe(
      'What the weight bytes rest on: the architecture estimate, model.safetensors.index.json, or parameter_count',
    ),
  dtype: z
    .string()
    .describe('Checkpoint dtype of unquantized tensors (bfloat16 when the config does not say)'),
  quantization: z
    .object({
      method: z.string().describe('quant_method of quantization_config'),
      format: z.string().describe('Readable format, e.g. "fp8 e4m3, 128×128 blocks"'),
      bits: z.number().describe('Bits per quantized weight, scales excluded'),
      bytes_per_weight: z.number().describe('Bytes per quantized weight, scales included'),
      quantized_parts: z
        .array(z.string())
        .describe(
          'Parts held quantized (attention, denseMlp, sharedExperts, routedExperts, linearAttention)',
        ),
    })
    .nullable()
    .describe('Checkpoint quantization, or null for a 16-bit checkpoint'),
  max_position_embeddings: z
    .number()
    .int()
    .nullable()
    .describe('Longest context the model supports, when the config says'),
  tied_embeddings: z.boolean().describe('LM head shares the embedding matrix'),
  multimodal: z
    .boolean()
    .describe(
      'Nested text_config / vision tower (only the language model is sized unless vision sizes are given)',
    ),
  mtp_layers: z
    .number()
    .int()
    .describe('Multi-token-prediction layers in the checkpoint (counted in the weights)'),
  missing_facts: z
    .array(z.string())
    .describe('Facts the config lacks; estimates that need them are marked in notes and warnings'),
  notes: z.array(z.string()).describe('Assumptions made while reading the config'),
});
export type ModelSummary = z.infer<typeof ModelSummarySchema>;

export const AlternativeSchema = z.object({
  label: z.string().describe('Short name: "fp8 KV cache", "FP8 weights", "lower latency", "vllm"…'),
  description: z.string().describe('What changes and what it buys, in one sentence'),
  framework: SizingFramework,
  fits: z.boolean().describe('Whether this alternative fits'),
  layout: LayoutSchema,
  framework_args: z.array(z.string()).describe('Engine arguments for this alternative (argv)'),
  kv_capacity_tokens: z.number().int().describe('KV-cache capacity of one replica, in tokens'),
  max_context_tokens: z.number().int().describe('Longest context at the target concurrency'),
});
export type SizingAlternative = z.infer<typeof AlternativeSchema>;

export const SizeModelResult = z.object({
  model: ModelSummarySchema.describe('What the sizer read about the model'),
  target: z
    .object({
      system: z.string().nullable().describe('System profile sized for, or null when sized for a GPU type'),
      gpu: z.string().describe('GPU type'),
      gpu_memory_gib: z.number().describe('Memory per GPU in GiB'),
      gpus_per_node: z.number().int().describe('GPUs per node'),
      framework: SizingFramework,
      context_length: z.number().int().describe('Target context per request, in tokens'),
      concurrency: z.number().int().describe('Target requests at once'),
      objective: SizingObjective,
      kv_cache_dtype: KvCacheDtypeInput,
    })
    .describe('What was sized for (inputs with defaults applied)'),
  fits: z.boolean().describe('The weights fit and the KV cache holds the target context × concurrency'),
  layout: LayoutSchema.describe('The recommended layout of one replica'),
  weights_bytes: z.number().describe('Weight bytes of one replica (all GPUs together)'),
  weights_bytes_per_gpu: z.number().describe('Weight bytes on the fullest GPU'),
  kv_bytes_per_token: z
    .number()
    .describe(
      'KV bytes one token of context adds to the whole model (full-attention layers, one copy, chosen KV dtype)',
    ),
  kv_bytes_per_token_per_gpu: z
    .number()
    .describe('KV bytes one token adds on the fullest GPU (replicated KV heads and MLA latents counted)'),
  kv_bytes_per_request: z
    .number()
    .describe(
      'Constant KV bytes per request on the fullest GPU: sliding-window layers at a full window plus linear-attention state',
    ),
  kv_capacity_tokens: z
    .number()
    .int()
    .describe('Tokens of context the KV cache of one replica holds (all requests together)'),
  max_context_tokens: z
    .number()
    .int()
    .describe(
      'Longest context each request can have at the target concurrency (capped at the model maximum)',
    ),
  max_concurrency: z.number().int().describe('Requests of the target context that fit at once'),
  memory_per_gpu: GpuMemorySchema.describe('Memory of the fullest GPU of the replica'),
  framework_args: z
    .array(z.string())
    .describe(
      'Engine arguments for this layout (argv); sml-mcp adds the per-node ones (launcher_adds) itself',
    ),
  launcher_adds: z
    .array(z.string())
    .describe(
      'Arguments the job script adds per node (--nnodes, --node-rank, --dist-init-addr; Ray for vLLM); not to be passed',
    ),
  catalog_recipe: z
    .object({
      framework: SizingFramework,
      nodes_per_replica: z.number().int().describe('Nodes per replica in the catalog'),
      framework_args: z.string().describe('Framework args of the catalog entry'),
    })
    .nullable()
    .describe("The catalog's known-good recipe for this model, when it is a catalog id"),
  warnings: z
    .array(z.string())
    .describe('What to watch: missing facts, assumptions, tight fits, divisibility limits'),
  explanation: z.string().describe('A short explanation a person can read'),
  alternatives: z
    .array(AlternativeSchema)
    .describe('Other layouts worth knowing (fp8 KV cache, FP8 weights, latency, other engine)'),
});
export type SizeModelResult = z.infer<typeof SizeModelResult>;
