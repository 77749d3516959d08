import { z } from 'zod';
import { SmlError } from '../errors.js';

/**
 * The accelerators the sizer knows. Memory is the vendor's nominal capacity; NVIDIA's "80 GB",
 * "96 GB" and "141 GB" figures match the GiB the driver reports to within about 1 %, so the sizer
 * treats them as GiB. `gpusPerNode` is the usual node of that GPU and only a default: a system
 * profile or the `gpus_per_node` input overrides it.
 */
export const GPU_TYPES = [
  'GH200-96GB',
  'A100-40GB',
  'A100-80GB',
  'H100-80GB',
  'H200-141GB',
  'MI300A-128GB',
] as const;
export const GpuType = z
  .enum(GPU_TYPES)
  .describe('GPU type: GH200-96GB, A100-40GB, A100-80GB, H100-80GB, H200-141GB or MI300A-128GB');
export type GpuType = z.infer<typeof GpuType>;

export interface GpuSpec {
  /** A GpuType, or the model name of a system profile's GPU the table does not know. */
  type: string;
  /** Names people type for it (case-insensitive): `GH200`, `a100-80`, `H100`… */
  aliases: readonly string[];
  vendor: 'nvidia' | 'amd';
  memoryGiB: number;
  /** GPUs of a typical node: Alps quad-GH200 and quad-MI300A nodes, 4-GPU A100 nodes, 8-GPU HGX boards. */
  gpusPerNode: number;
  /** FP8 tensor cores (Hopper, CDNA3). Ampere runs fp8 checkpoints as weight-only fp8 (slower). */
  hasFp8: boolean;
  /** CPU and GPU share this memory (MI300A APU): the host's processes and page cache use it too. */
  isUnifiedMemory: boolean;
}

export const GPUS: readonly GpuSpec[] = [
  {
    type: 'GH200-96GB',
    aliases: ['gh200', 'gh200-96', 'gh200-96gb', 'gh200_96gb'],
    vendor: 'nvidia',
    memoryGiB: 96,
    gpusPerNode: 4,
    hasFp8: true,
    isUnifiedMemory: false,
  },
  {
    type: 'A100-40GB',
    aliases: ['a100-40', 'a100-40gb', 'a100_40gb', 'a100 40gb'],
    vendor: 'nvidia',
    memoryGiB: 40,
    gpusPerNode: 8,
    hasFp8: false,
    isUnifiedMemory: false,
  },
  {
    type: 'A100-80GB',
    aliases: ['a100', 'a100-80', 'a100-80gb', 'a100_80gb', 'a100 80gb'],
    vendor: 'nvidia',
    memoryGiB: 80,
    gpusPerNode: 4,
    hasFp8: false,
    isUnifiedMemory: false,
  },
  {
    type: 'H100-80GB',
    aliases: ['h100', 'h100-80', 'h100-80gb', 'h100_80gb', 'h100 80gb'],
    vendor: 'nvidia',
    memoryGiB: 80,
    gpusPerNode: 8,
    hasFp8: true,
    isUnifiedMemory: false,
  },
  {
    type: 'H200-141GB',
    aliases: ['h200', 'h200-141', 'h200-141gb', 'h200_141gb', 'h200 141gb'],
    vendor: 'nvidia',
    memoryGiB: 141,
    gpusPerNode: 8,
    hasFp8: true,
    isUnifiedMemory: false,
  },
  {
    type: 'MI300A-128GB',
    aliases: ['mi300a', 'mi300a-128', 'mi300a-128gb', 'mi300a_128gb'],
    vendor: 'amd',
    memoryGiB: 128,
    gpusPerNode: 4,
    hasFp8: true,
    isUnifiedMemory: true,
  },
];

/** The GPU spec for a type or alias (`GH200`, `h100-80gb`, `A100-80GB`…); throws INVALID_ARGUMENT. */
export function findGpu(name: string): GpuSpec {
  const key = name.trim().toLowerCase();
  const match = GPUS.find((gpu) => gpu.type.toLowerCase() === key || gpu.aliases.includes(key));
  if (!match) {
    throw new SmlError('INVALID_ARGUMENT', `Unknown GPU type '${name}'.`, {
      hint: `Use one of ${GPU_TYPES.join(', ')}, or a system name (list_systems).`,
      details: { gpu: name },
    });
  }
  return match;
}

/**
 * The GPU spec of a system profile's GPU (`GH200` + 96 GiB, `A100-80GB`, `MI300A`…). A GPU the table
 * does not know still sizes: its memory comes from the profile, its capabilities from the vendor.
 */
export function gpuFromProfile(gpu: {
  model: string;
  memoryGiB: number;
  perNode: number;
  vendor: 'nvidia' | 'amd';
}): GpuSpec {
  const key = gpu.model.trim().toLowerCase();
  const byMemory = GPUS.find(
    (spec) =>
      (spec.type.toLowerCase() === key ||
        spec.aliases.includes(key) ||
        spec.type.toLowerCase().startsWith(`${key}-`)) &&
      spec.memoryGiB === gpu.memoryGiB,
  );
  const base = byMemory ?? GPUS.find((spec) => spec.type.toLowerCase() === key || spec.aliases.includes(key));
  return {
    type: base?.type ?? `${gpu.model}-${gpu.memoryGiB}GB`,
    aliases: base?.aliases ?? [],
    vendor: gpu.vendor,
    memoryGiB: gpu.memoryGiB,
    gpusPerNode: gpu.perNode,
    hasFp8: base?.hasFp8 ?? gpu.vendor === 'amd',
    isUnifiedMemory: base?.isUnifiedMemory ?? false,
  };
}
