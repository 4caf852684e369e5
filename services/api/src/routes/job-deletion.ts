import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  assertDeletable,
  assertNoWaitingDependents,
  deleteJob,
  deleteJobLogs,
  KumoError,
  readDeletable,
  type ArtifactStore,
} from '@kumo/shared';
import { SUBMITTERS } from '../plugins/auth';
import { errorSchema, jobIdParams } from './schemas';

/**
 * DELETE /v1/jobs/:id: an ended job and everything kept of it. Its task logs go first (the artifact
 * store is outside Redis and may fail: then the job stays, whole, and the delete can be asked again),
 * then, in one step, its record and ledger.
 */
export function jobDeletionRoutes(app: FastifyInstance, o: { taskLogs: ArtifactStore | undefined }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { redis, keys } = app.kumo;

  r.delete('/v1/jobs/:id', {
    config: { roles: SUBMITTERS },
    schema: {
      summary: 'Delete an ended job: its record, task ledger, results, contributors, listing and task logs',
      description:
        "Its owner or an admin; 204 when deleted, then the id is 404 everywhere and its Idempotency-Key is free again. 409 JOB_NOT_ENDED while the job is live (cancel it first), 409 JOB_STOPPING (retryable) while a cancelled job's tasks are still being stopped, 409 JOB_HAS_DEPENDENTS while a live job waits on it (dependsOn) and has not started yet. What it spent stays in the users' and the month's spend, and /metrics totals still count it.",
      params: jobIdParams,
      response: {
        204: z.null().describe('deleted'),
        403: errorSchema,
        404: errorSchema,
        409: errorSchema,
        503: errorSchema,
      },
    },
    handler: async (req, reply) => {
      const { id } = req.params;
      const job = await readDeletable(redis, keys, id);
      const who = req.principal;
      if (who.role !== 'admin' && job.user !== who.name)
        throw new KumoError('FORBIDDEN', 'submitters delete only their own jobs');
      assertDeletable(id, job);
      await assertNoWaitingDependents(redis, keys, id);
      const logs = o.taskLogs
        ? await deleteJobLogs(o.taskLogs, id).catch((err: unknown) => {
            req.log.warn({ err, jobId: id }, 'task logs not deleted: the job stays');
            throw new KumoError(
              'ARTIFACT_STORE_UNAVAILABLE',
              `the task logs of job '${id}' could not be deleted; try again`,
            );
          })
        : 0;
      await deleteJob(redis, keys, id, job);
      req.log.info({ jobId: id, logObjects: logs }, 'job deleted');
      return reply.status(204).send(null);
    },
  });
}
