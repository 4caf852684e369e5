import { z } from 'zod';
import { commonFields, envSchema, poolNameSchema, runSchema } from './common';

/**
 * Evaluation started by the training job's own checkpoints: each checkpoint it records (every
 * `everySteps` steps, and the last one) becomes an evaluation job of that checkpoint x `benchmarks`.
 */
export const checkpointEvaluationSchema = z.strictObject({
  benchmarks: z.array(z.string().min(1).max(128)).min(1).max(100),
  run: runSchema,
  /** Default: the training job's pool. */
  pool: poolNameSchema.optional(),
  /** Only checkpoints whose step is a multiple of this (a multiple of the checkpoint interval); default every one. */
  everySteps: z.int().min(1).optional(),
  env: envSchema.optional(),
});

export const trainingSchema = z.strictObject({
  kind: z.literal('training'),
  ...commonFields,
  model: z.strictObject({ name: z.string().min(1).max(128), parameters: z.string().max(16).optional() }),
  target: z.strictObject({ steps: z.int().min(1).max(100_000_000), tokens: z.int().min(1).optional() }),
  checkpoint: z.strictObject({ uri: z.string().min(1).max(1024).optional(), everySteps: z.int().min(1).optional() }).default({}),
  evaluate: checkpointEvaluationSchema.optional(),
});
export type TrainingSpec = z.infer<typeof trainingSchema>;
