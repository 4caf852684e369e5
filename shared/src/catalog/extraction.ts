import { z } from 'zod';
import { commonFields, LIMITS } from './common';

export const extractionSchema = z
  .strictObject({
    kind: z.literal('extraction'),
    ...commonFields,
    source: z
      .strictObject({
        /** e.g. CC-MAIN-2023-50 */
        snapshot: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore'),
        /** A count of WARC files (batches) in the snapshot. */
        batches: z.int().min(1).max(LIMITS.batchesMax).optional(),
        /** An explicit list of WARC paths, instead of a count. */
        paths: z.array(z.string().min(1).max(1024)).min(1).max(LIMITS.listMax).optional(),
      })
      .refine((s) => (s.batches === undefined) !== (s.paths === undefined), {
        message: 'give exactly one of source.batches or source.paths',
      }),
    /** WARC files per task. */
    batchSize: z.int().min(1).max(10_000).default(1),
    output: z.strictObject({ prefix: z.string().min(1).max(1024) }).optional(),
  });
export type ExtractionSpec = z.infer<typeof extractionSchema>;

export function extractionBatches(spec: ExtractionSpec): number {
  return spec.source.paths?.length ?? spec.source.batches ?? 0;
}

/** The WARC inputs of one task: its slice of the explicit list, or its batch numbers in the snapshot. */
export function extractionInputs(spec: ExtractionSpec, index: number): string[] {
  const from = index * spec.batchSize;
  const to = Math.min(from + spec.batchSize, extractionBatches(spec));
  if (spec.source.paths) return spec.source.paths.slice(from, to);
  const out: string[] = [];
  for (let b = from; b < to; b++) out.push(`${spec.source.snapshot}/batch-${b}`);
  return out;
}
