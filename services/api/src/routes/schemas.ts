import { z } from 'zod';
import { JOB_KINDS, JOB_STATES, poolNameSchema } from '@kumo/shared';

export const jobIdParams = z.object({ id: z.string().min(1).max(64) });

export const listJobsQuery = z.strictObject({
  state: z.enum(JOB_STATES as unknown as [string, ...string[]]).optional(),
  kind: z.enum(JOB_KINDS).optional(),
  pool: poolNameSchema.optional(),
  user: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(64).optional(),
});

export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    /** The same request may succeed later, unchanged (a rate limit, a job still stopping, a store down). */
    retryable: z.boolean(),
    issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
  }),
});

export const progressSchema = z.object({
  total: z.number(),
  queued: z.number(),
  running: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  /** Tasks the spec's skip left out (done before the job started): queued + running + succeeded + failed + skipped = total. */
  skipped: z.number(),
  unit: z.string(),
  percent: z.number(),
  ratePerMinute: z.number(),
  etaSeconds: z.number().nullable(),
  estimatedCompletionAt: z.string().nullable(),
  costUsd: z.number(),
  forecastCostUsd: z.number().nullable(),
});

export const jobRecordSchema = z.object({
  id: z.string(),
  kind: z.enum(JOB_KINDS),
  name: z.string(),
  pool: z.string(),
  user: z.string(),
  state: z.enum(JOB_STATES as unknown as [string, ...string[]]),
  priority: z.number(),
  reason: z.string().optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  spec: z.record(z.string(), z.unknown()),
  progress: progressSchema,
  costUsd: z.number(),
  forecastCostUsd: z.number().nullable(),
  budget: z.object({ maxCostUsd: z.number() }).nullable(),
  handBacks: z.number(),
  checkpoint: z.record(z.string(), z.unknown()).nullable(),
  liveProgress: z.record(z.string(), z.unknown()).nullable(),
  /** The job whose tasks this one reruns (POST /v1/jobs/:id/rerun). */
  rerunOf: z.string().optional(),
  dependsOn: z.array(z.string()).optional(),
  waitingOn: z.string().optional(),
});

export const poolViewSchema = z.looseObject({
  name: z.string(),
  machineType: z.string(),
  zones: z.array(z.string()),
  min: z.number(),
  max: z.number(),
  status: z.unknown(),
  vms: z.array(z.unknown()),
  workers: z.array(z.unknown()),
});

export const tokenCreatedSchema = z.object({
  id: z.string(),
  token: z.string(),
  role: z.string(),
  name: z.string(),
  pool: z.string().nullable(),
  expiresAt: z.string().nullable(),
});

/**
 * The serializer of a hot read route whose answer JobStore builds to its schema (the types and the API
 * tests hold it there): plain JSON, without the zod check of every response, which cost a tenth of
 * GET /v1/jobs/:id's CPU in the bench. The schema still documents the route (OpenAPI).
 */
export const plainJsonSerializer = (): ((data: unknown) => string) => (data) => JSON.stringify(data);
