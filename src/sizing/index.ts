/**
 * Sizing: how many GPUs and which parallel layout a model needs. The MCP tool `size_model`, the
 * `sml-mcp size` command and `launch layout:"auto"` call `sizeModel` with `SizeModelInput`.
 */
export { type ModelArchitecture, parseModelConfig } from './architecture.js';
export { findGpu, GPU_TYPES, GPUS, type GpuSpec, GpuType, gpuFromProfile } from './gpus.js';
export {
  type Framework,
  type KvCacheDtype,
  kvCost,
  modelWeightBytes,
  planGpuMemory,
  sglangMemFractionStatic,
  VLLM_GPU_MEMORY_UTILIZATION,
  weightBytesPerGpu,
} from './memory.js';
export { estimateParameters, type ParameterEstimate } from './parameters.js';
export { checkDivisibility, layoutShapes, type Plan, type PlanRequest, planLayout } from './planner.js';
export { parseQuantization, type WeightQuantization } from './quantization.js';
export {
  AlternativeSchema,
  LayoutSchema,
  ModelSummarySchema,
  SizeModelInput,
  SizeModelResult,
  type SizingAlternative,
  type SizingLayout,
} from './schema.js';
export {
  buildFrameworkArgs,
  catalogModelResolver,
  createSizer,
  DEFAULT_CONCURRENCY,
  DEFAULT_CONTEXT,
  DEFAULT_MAX_NODES,
  formatTokens,
  type SizingDeps,
  sizeModel,
} from './size-model.js';
export {
  type CatalogModelRef,
  DEFAULT_HUB_TIMEOUT_MS,
  DEFAULT_HUB_URL,
  type HubOptions,
  loadModelFiles,
  type ModelFiles,
  type ModelSourceDeps,
} from './source.js';
