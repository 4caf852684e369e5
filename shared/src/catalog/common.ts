import { z } from 'zod';

/** The limits the public contract promises (docs/jobs.md, docs/operations.md): extend, never loosen silently. */
export const LIMITS = {
  nameMax: 128,
  batchesMax: 10_000_000,
  envKeysMax: 64,
  envValueMax: 4096,
  commandArgsMax: 256,
  commandArgMax: 4096,
  listMax: 100_000,
  /** source.listing: its URI, one line of it, and its size once decompressed. */
  listingUriMax: 2048,
  listingLineMax: 1024,
  listingBytesMax: 64 * 1024 * 1024,
  labelsMax: 32,
  /** skip.ranges and skip.succeededIn. */
  skipRangesMax: 10_000,
  skipJobsMax: 100,
} as const;

export const poolNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/,
    'pool names are lowercase letters, digits and dashes, 1-32 characters',
  );

export const nameSchema = z.string().min(1).max(LIMITS.nameMax);

export const envSchema = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are letters, digits and _'),
    z.string().max(LIMITS.envValueMax),
  )
  .refine((env) => Object.keys(env).length <= LIMITS.envKeysMax, `at most ${LIMITS.envKeysMax} environment variables`);

export const labelsSchema = z
  .record(z.string().min(1).max(63), z.string().max(63))
  .refine((l) => Object.keys(l).length <= LIMITS.labelsMax, `at most ${LIMITS.labelsMax} labels`);

/**
 * A container image reference as Docker's reference grammar defines it ([registry[:port]/]path[:tag][@digest]).
 * Checked, not only measured: the image is an argument of `docker run`, and one that began with '-'
 * would be read as an option of it.
 */
const DOMAIN =
  '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
export const IMAGE_REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

/** How a task runs. Builtins run in the worker's process (tests, benchmarks); the rest are real work. */
export const runSchema = z.union([
  z.strictObject({ builtin: z.literal('noop') }),
  z.strictObject({ builtin: z.literal('sleep'), ms: z.int().min(0).max(86_400_000) }),
  z.strictObject({
    command: z.array(z.string().min(1).max(LIMITS.commandArgMax)).min(1).max(LIMITS.commandArgsMax),
    cwd: z.string().max(4096).optional(),
  }),
  z.strictObject({
    image: z
      .string()
      .min(1)
      .max(512)
      .regex(IMAGE_REFERENCE, 'an image reference such as ghcr.io/team/train:1.2 or repo@sha256:<digest>'),
    command: z.array(z.string().max(LIMITS.commandArgMax)).max(LIMITS.commandArgsMax).optional(),
  }),
]);
export type RunSpec = z.infer<typeof runSchema>;

export const retrySchema = z.strictObject({
  /** Attempts for the task's own failures (non-zero exit, timeout). */
  maxAttempts: z.int().min(1).max(20).optional(),
  /** First retry delay; doubles each attempt. */
  backoffSeconds: z.number().min(0).max(3600).optional(),
  /** Separate budget for infrastructure losses (preempted VM, lost worker): these never use an attempt. */
  maxInfraRetries: z.int().min(0).max(100).optional(),
  /**
   * A task that has failed on this many different workers is quarantined (failed for good, with its
   * errors) instead of retried further: the input is bad, not the machine. 0 turns it off. Default 2.
   */
  quarantineAfterWorkers: z.int().min(0).max(100).optional(),
});

export const failurePolicySchema = z.strictObject({
  /** The job fails as soon as more tasks than this have failed for good; 0 = any failure fails the job. */
  maxFailedTasks: z.int().min(0).max(LIMITS.batchesMax).default(0),
});

/**
 * Where a job starts from what is done: half-open task index ranges [from, to), and the tasks that
 * succeeded in earlier jobs. Whether a range lies within the job's tasks is checked at submit (the task
 * count depends on the kind), so is whether the jobs exist.
 */
export const skipSchema = z
  .strictObject({
    ranges: z
      .array(z.tuple([z.int().min(0).max(LIMITS.batchesMax), z.int().min(0).max(LIMITS.batchesMax)]))
      .max(LIMITS.skipRangesMax)
      .optional(),
    succeededIn: z
      .array(z.string().regex(/^job_[0-9a-z]{18}$/, 'a job id'))
      .min(1)
      .max(LIMITS.skipJobsMax)
      .optional(),
  })
  .superRefine((s, ctx) => {
    s.ranges?.forEach(([from, to], i) => {
      if (to <= from)
        ctx.addIssue({
          code: 'custom',
          path: ['ranges', i],
          message: `a range [from, to) needs from < to (got [${from}, ${to}])`,
        });
    });
  });
export type SkipSpec = z.infer<typeof skipSchema>;

/** Fields every job kind shares. */
export const commonFields = {
  name: nameSchema,
  pool: poolNameSchema.default('local'),
  run: runSchema,
  priority: z.int().min(0).max(100).default(50),
  retry: retrySchema.default({}),
  timeoutSeconds: z
    .int()
    .min(1)
    .max(30 * 86_400)
    .optional(),
  failurePolicy: failurePolicySchema.default({ maxFailedTasks: 0 }),
  env: envSchema.default({}),
  labels: labelsSchema.default({}),
  user: z.string().min(1).max(128).optional(),
  /** Jobs that must succeed before this one starts; if one fails or is cancelled, this one fails. */
  dependsOn: z
    .array(z.string().regex(/^job_[0-9a-z]{18}$/, 'a job id'))
    .max(100)
    .optional(),
  /** Feed only the first `tasks` tasks until they have all succeeded, then the rest. */
  canary: z.strictObject({ tasks: z.int().min(1).max(100_000) }).optional(),
  /** Money the job may spend; feeding pauses (state budget_exhausted) before the next task would cross it. */
  budget: z.strictObject({ maxCostUsd: z.number().min(0).max(10_000_000) }).optional(),
  /** Tasks never run, counted in progress.skipped: done already (see skipSchema). */
  skip: skipSchema.optional(),
};
