import { z } from 'zod';
import { KumoError } from '../errors';
import { commonFields, LIMITS } from './common';

const SOURCES_RULE =
  'give exactly one of source.batches, source.paths or source.listing (source.batches may go with source.listing, as a cap on its lines)';

export const extractionSchema = z.strictObject({
  kind: z.literal('extraction'),
  ...commonFields,
  source: z
    .strictObject({
      /** e.g. CC-MAIN-2023-50 */
      snapshot: z
        .string()
        .min(1)
        .max(64)
        .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore'),
      /** A count of WARC files (batches) in the snapshot; with `listing`, only its first N lines. */
      batches: z.int().min(1).max(LIMITS.batchesMax).optional(),
      /** An explicit list of WARC paths, instead of a count. */
      paths: z.array(z.string().min(1).max(1024)).min(1).max(LIMITS.listMax).optional(),
      /**
       * A file listing the WARC paths, one a line (CommonCrawl's warc.paths.gz): a path on the control
       * plane's machine, an https:// URL or gs://bucket/object, gzip or plain. The API reads it at
       * submit; the job then holds `batches` = the lines used and their `listingSha256`.
       */
      listing: z.string().min(1).max(LIMITS.listingUriMax).optional(),
      /** Hex SHA-256 of the lines used, joined by "\n". Set by the API; if submitted, the listing must match it. */
      listingSha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits')
        .optional(),
    })
    .superRefine((s, ctx) => {
      const given = [s.batches, s.paths, s.listing].filter((v) => v !== undefined).length;
      const ok = s.listing !== undefined ? s.paths === undefined : given === 1;
      if (!ok) ctx.addIssue({ code: 'custom', message: SOURCES_RULE });
      if (s.listingSha256 !== undefined && s.listing === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['listingSha256'],
          message: 'source.listingSha256 goes only with source.listing',
        });
      }
    }),
  /** WARC files per task. */
  batchSize: z.int().min(1).max(10_000).default(1),
  output: z.strictObject({ prefix: z.string().min(1).max(1024) }).optional(),
});
export type ExtractionSpec = z.infer<typeof extractionSchema>;

/**
 * How many WARC files the job covers. For a listing this is `batches`, which the API sets at submit to
 * the number of lines used: so the count (and taskCount) stays a pure function of the stored spec.
 */
export function extractionBatches(spec: ExtractionSpec): number {
  return spec.source.paths?.length ?? spec.source.batches ?? 0;
}

/** The lines [from, to) of a listing job's stored listing that task `index` works on; undefined for other sources. */
export function listedRange(spec: ExtractionSpec, index: number): { from: number; to: number } | undefined {
  if (spec.source.listing === undefined) return undefined;
  const from = index * spec.batchSize;
  return { from, to: Math.min(from + spec.batchSize, extractionBatches(spec)) };
}

/**
 * The WARC inputs of one task: its slice of the explicit list, its lines of the listing (read from the
 * store by the caller and passed as `listed`), or its batch numbers in the snapshot.
 */
export function extractionInputs(spec: ExtractionSpec, index: number, listed?: string[]): string[] {
  if (spec.source.listing !== undefined) {
    // Never the synthetic SNAPSHOT/batch-N names: a listing job's task reads real paths or nothing.
    if (!listed) throw new KumoError('TASK_INVALID', `task ${index} of a listing job needs its lines of the listing`);
    return listed;
  }
  const from = index * spec.batchSize;
  const to = Math.min(from + spec.batchSize, extractionBatches(spec));
  if (spec.source.paths) return spec.source.paths.slice(from, to);
  const out: string[] = [];
  for (let b = from; b < to; b++) out.push(`${spec.source.snapshot}/batch-${b}`);
  return out;
}
