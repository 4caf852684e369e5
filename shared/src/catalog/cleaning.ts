import { z } from 'zod';
import { commonFields, LIMITS } from './common';

export const cleaningSchema = z.strictObject({
  kind: z.literal('cleaning'),
  ...commonFields,
  input: z
    .strictObject({
      shards: z.array(z.string().min(1).max(1024)).min(1).max(LIMITS.listMax).optional(),
      /** A prefix and a count, for shards named `${prefix}${index}`. */
      prefix: z.string().min(1).max(1024).optional(),
      count: z.int().min(1).max(LIMITS.batchesMax).optional(),
    })
    .refine((i) => (i.shards !== undefined) !== (i.count !== undefined), {
      message: 'give exactly one of input.shards or input.count (with input.prefix)',
    }),
  pipeline: z
    .strictObject({
      name: z.string().min(1).max(128),
      steps: z
        .array(
          z.strictObject({ name: z.string().min(1).max(128), params: z.record(z.string(), z.unknown()).default({}) }),
        )
        .max(64)
        .default([]),
    })
    .optional(),
  output: z.strictObject({ prefix: z.string().min(1).max(1024) }).optional(),
});
export type CleaningSpec = z.infer<typeof cleaningSchema>;

export function cleaningShards(spec: CleaningSpec): number {
  return spec.input.shards?.length ?? spec.input.count ?? 0;
}

export function cleaningInputs(spec: CleaningSpec, index: number): string[] {
  const shard = spec.input.shards?.[index];
  if (shard !== undefined) return [shard];
  return [`${spec.input.prefix ?? 'shard-'}${index}`];
}
