import { z } from 'zod';
import { commonFields } from './common';

export const trainingSchema = z.strictObject({
  kind: z.literal('training'),
  ...commonFields,
  model: z.strictObject({ name: z.string().min(1).max(128), parameters: z.string().max(16).optional() }),
  target: z.strictObject({ steps: z.int().min(1).max(100_000_000), tokens: z.int().min(1).optional() }),
  checkpoint: z.strictObject({ uri: z.string().min(1).max(1024).optional(), everySteps: z.int().min(1).optional() }).default({}),
});
export type TrainingSpec = z.infer<typeof trainingSchema>;
