/**
 * Sizing: how many GPUs and which parallel layout a model needs. The MCP tool `size_model`, the
 * `sml-mcp size` command and `launch layout:"auto"` call `sizeModel` with `SizeModelInput`.
 */
export { type ModelArchitecture, parseModelConfig } from './architecture.js';
export { formatTokens } from './explain.js';
export { findGpu } from './gpus.js';
export {
  kvCost,
  modelWeightBytes,
  planGpuMemory,
  sglangMemFractionStatic,
  weightBytesPerGpu,
} from './memory.js';
export { estimateParameters } from './parameters.js';
export { checkDivisibility, layoutShapes } from './planner.js';
export { parseQuantization } from './quantization.js';
export { SizeModelResult } from './schema.js';
export { catalogModelResolver, sizeModel } from './size-model.js';
export { loadModelFiles } from './source.js';
