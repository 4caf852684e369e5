import { z } from 'zod';
import { commonFields, envSchema, poolNameSchema, runSchema } from './common';

/** The most VMs one gang may span. */
export const MAX_GANG_NODES = 64;

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
  checkpoint: z
    .strictObject({ uri: z.string().min(1).max(1024).optional(), everySteps: z.int().min(1).optional() })
    .default({}),
  evaluate: checkpointEvaluationSchema.optional(),
  /**
   * A gang: the run spans this many VMs, one rank on each, started together or not at all (see
   * gangOf). Default 1: one task holding one VM.
   */
  nodes: z.int().min(1).max(MAX_GANG_NODES).optional(),
  /** Where and how long a gang's ranks meet: MASTER_PORT on rank 0's VM, and how long a rank waits for the rest. */
  rendezvous: z
    .strictObject({
      port: z.int().min(1024).max(65_535).optional(),
      timeoutSeconds: z.int().min(5).max(86_400).optional(),
    })
    .optional(),
});
export type TrainingSpec = z.infer<typeof trainingSchema>;

/** A gang: its size, rank 0's MASTER_PORT, and how long a rank waits at the rendezvous for the rest. */
export interface Gang {
  size: number;
  port: number;
  timeoutMs: number;
}

/**
 * The gang a training job runs as, or undefined for a single-VM run (every other kind too). Each rank
 * is one task (index = rank); ranks wait for each other before the trainer starts, and when one rank's
 * run ends any way but success, every other rank of that generation is stopped and handed back, so
 * the whole gang starts again together (from the last checkpoint).
 */
export function gangOf(spec: {
  kind: string;
  nodes?: number;
  rendezvous?: { port?: number; timeoutSeconds?: number };
}): Gang | undefined {
  if (spec.kind !== 'training' || (spec.nodes ?? 1) <= 1) return undefined;
  return {
    size: spec.nodes!,
    port: spec.rendezvous?.port ?? 29_500,
    timeoutMs: (spec.rendezvous?.timeoutSeconds ?? 900) * 1000,
  };
}
