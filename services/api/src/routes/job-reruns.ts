import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  envSchema,
  isTerminal,
  jobSpecSchema,
  KumoError,
  poolNameSchema,
  retrySchema,
  runSchema,
  type JobRecord,
  type JobSpec,
} from '@kumo/shared';
import { SUBMITTERS } from '../plugins/auth';
import { assertPoolsFit } from './jobs';
import { errorSchema, jobIdParams, jobRecordSchema } from './schemas';

/** What a rerun may change of its job's spec; everything else is the job's own. */
const rerunPatchSchema = z.strictObject({
  run: runSchema.optional(),
  env: envSchema.optional(),
  retry: retrySchema.optional(),
  timeoutSeconds: z
    .int()
    .min(1)
    .max(30 * 86_400)
    .optional(),
  pool: poolNameSchema.optional(),
  priority: z.int().min(0).max(100).optional(),
});

const rerunBodySchema = z.strictObject({
  /** failed: the tasks that failed for good; unfinished: every task that did not succeed (failed, never run, cancelled). */
  tasks: z.enum(['failed', 'unfinished']),
  patch: rerunPatchSchema.optional(),
});

/**
 * The spec a rerun runs: its job's, patched. Without the job's skip (the tasks it chose are the rerun's
 * own), its dependencies (met once already) and its canary (counted from task 0, which a rerun may not
 * have); checked again as a whole, so a patch that makes the spec invalid is a 400 with its path.
 */
function rerunSpec(job: JobRecord, patch: z.infer<typeof rerunPatchSchema> = {}): JobSpec {
  const { skip: _skip, dependsOn: _deps, canary: _canary, ...own } = job.spec;
  const parsed = jobSpecSchema.safeParse({ ...own, ...patch });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: ['patch', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
      message: i.message,
    }));
    throw new KumoError('INVALID_INPUT', 'the patched spec is invalid', { issues });
  }
  return parsed.data;
}

/** POST /v1/jobs/:id/rerun: a new job of an ended job's failed or unfinished tasks, at their own indices. */
export function jobRerunRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { jobs, pools } = app.kumo;

  r.post('/v1/jobs/:id/rerun', {
    config: { roles: SUBMITTERS },
    schema: {
      summary: "Rerun an ended job's failed or unfinished tasks as a new job",
      description:
        "The job must have ended (409 JOB_NOT_ENDED while it is live); its owner or an admin may rerun it. 201 with a new job whose `rerunOf` is this one and whose tasks are exactly the chosen ones, each with its own index (KUMO_TASK_INDEX) and inputs (KUMO_TASK_INPUTS; a listing job's lines are kept 30 days after it ended); `progress.total` is their count. 400 NOTHING_TO_RERUN when there is none. `patch` may change run, env, retry, timeoutSeconds, pool and priority.",
      params: jobIdParams,
      body: rerunBodySchema,
      response: {
        201: jobRecordSchema,
        400: errorSchema,
        403: errorSchema,
        404: errorSchema,
        409: errorSchema,
        429: errorSchema,
      },
    },
    handler: async (req, reply) => {
      const job = await jobs.get(req.params.id);
      if (!job) throw new KumoError('JOB_NOT_FOUND', `no job with id '${req.params.id}'`);
      const who = req.principal;
      if (who.role !== 'admin' && job.user !== who.name)
        throw new KumoError('FORBIDDEN', 'submitters rerun only their own jobs');
      if (!isTerminal(job.state))
        throw new KumoError(
          'JOB_NOT_ENDED',
          `job '${job.id}' is ${job.state}: rerun it once it has ended (or cancel it)`,
        );
      const spec = rerunSpec(job, req.body.patch);
      await assertPoolsFit(pools, spec, ['patch']);
      const room = await app.userQuota.reserve(who, job.user, 1);
      let made: string | undefined;
      try {
        const { job: rerun } = await jobs.create({
          spec,
          user: job.user,
          rerun: { jobId: job.id, tasks: req.body.tasks },
        });
        made = rerun.id;
        req.log.info(
          { jobId: rerun.id, rerunOf: job.id, tasks: req.body.tasks, total: rerun.progress.total },
          'job rerun',
        );
        return reply.status(201).send(rerun);
      } finally {
        await room?.settle([made]);
      }
    },
  });
}
