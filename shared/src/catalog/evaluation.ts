import { z } from 'zod';
import { commonFields } from './common';

export const evaluationSchema = z
  .strictObject({
    kind: z.literal('evaluation'),
    ...commonFields,
    checkpoints: z.array(z.string().min(1).max(1024)).min(1).max(1000),
    benchmarks: z.array(z.string().min(1).max(128)).min(1).max(100),
  })
  .refine((s) => s.checkpoints.length * s.benchmarks.length <= 100_000, {
    message: 'checkpoints x benchmarks must be at most 100,000 tasks',
    path: ['benchmarks'],
  });
export type EvaluationSpec = z.infer<typeof evaluationSchema>;

/** Task index -> (checkpoint, benchmark), benchmark-major so one checkpoint's scores arrive together. */
export function evaluationPair(spec: EvaluationSpec, index: number): { checkpoint: string; benchmark: string } {
  const b = spec.benchmarks.length;
  return { checkpoint: spec.checkpoints[Math.floor(index / b)] ?? '', benchmark: spec.benchmarks[index % b] ?? '' };
}
