import { z } from 'zod';

/**
 * The parts of FirecREST v2 answers the backend reads, parsed leniently: unknown keys pass,
 * ids may be numbers or strings (older deployments), nullable fields stay nullable.
 */

const IdString = z.union([z.string(), z.number()]).transform(String);
const NullableInt = z.number().nullable().optional();

export const FileSystemEntry = z.object({
  path: z.string(),
  dataType: z.string().optional(),
  defaultWorkDir: z.boolean().optional(),
});

export const SystemEntry = z.object({
  name: z.string(),
  fileSystems: z.array(FileSystemEntry).nullable().optional(),
  dataOperation: z
    .object({ max_ops_file_size: z.number().int().positive().optional() })
    .nullable()
    .optional(),
  servicesHealth: z
    .array(z.object({ serviceType: z.string(), healthy: z.boolean().nullable().optional() }))
    .nullable()
    .optional(),
});
export type SystemEntry = z.infer<typeof SystemEntry>;

export const SystemsAnswer = z.object({ systems: z.array(SystemEntry) });

export const UserInfoAnswer = z.object({
  user: z.object({ id: IdString, name: z.string() }),
  group: z.object({ id: IdString, name: z.string() }),
  groups: z
    .array(z.object({ id: IdString, name: z.string() }))
    .nullable()
    .optional(),
  accounts: z
    .array(z.object({ name: z.string(), default: z.boolean().optional() }))
    .nullable()
    .optional(),
});

export const PartitionsAnswer = z.object({
  partitions: z
    .array(
      z.object({
        name: z.string(),
        cpus: NullableInt,
        totalNodes: NullableInt,
        partition: z
          .union([z.string(), z.array(z.string())])
          .nullable()
          .optional(),
      }),
    )
    .nullable(),
});

export const ReservationsAnswer = z.object({
  reservations: z
    .array(
      z.object({
        name: z.string(),
        nodeList: z.string().nullable().optional(),
        startTime: NullableInt,
        endTime: NullableInt,
        features: z.string().nullable().optional(),
        state: z.string().nullable().optional(),
      }),
    )
    .nullable(),
});

export const JobEntry = z.object({
  jobId: IdString,
  name: z.string().nullable().optional(),
  status: z.object({
    state: z.union([z.string(), z.array(z.string())]).transform((s) => (Array.isArray(s) ? s.join(',') : s)),
    stateReason: z.string().nullable().optional(),
    exitCode: NullableInt,
    interruptSignal: NullableInt,
  }),
  time: z
    .object({
      elapsed: NullableInt,
      start: NullableInt,
      end: NullableInt,
      suspended: NullableInt,
      limit: NullableInt,
    })
    .partial()
    .nullable()
    .optional(),
  account: z.string().nullable().optional(),
  nodes: z.string().nullable().optional(),
  partition: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
  workingDirectory: z.string().nullable().optional(),
});
export type JobEntry = z.infer<typeof JobEntry>;

export const JobsAnswer = z.object({ jobs: z.array(JobEntry).nullable() });

export const SubmitAnswer = z.object({ jobId: IdString });

export const StatAnswer = z.object({ output: z.object({ size: z.number() }) });

export const TailAnswer = z.object({
  output: z.object({ content: z.string(), contentType: z.string().optional() }),
});

export const ViewAnswer = z.object({ output: z.string() });
