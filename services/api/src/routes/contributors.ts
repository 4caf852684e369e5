import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CONTRIBUTOR_DAYS_KEPT, ContributorStore, KumoError, poolNameSchema } from '@kumo/shared';
import { READERS } from '../plugins/auth';
import { errorSchema, jobIdParams } from './schemas';

const contributorsSchema = z.object({
  contributors: z.array(
    z.object({
      worker: z.string(),
      /** The HTTPS worker's token name, or the pool for kumo's own workers. */
      owner: z.string(),
      succeeded: z.number(),
      failed: z.number(),
      taskSeconds: z.number(),
    }),
  ),
});

const DEFAULT_DAYS = 7;

/** Who did how many: per job (sums equal to the job's counts) and the team's table across jobs. */
export function contributorRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { jobs, pools, redis, keys, clock } = app.kumo;
  const contributors = new ContributorStore(redis, keys);

  r.get('/v1/jobs/:id/contributors', {
    config: { roles: READERS },
    schema: {
      summary: "Who did a job's tasks: per worker, its owner, tasks succeeded and failed, and run time",
      description:
        "`owner` is the worker token's name for an HTTPS worker, the pool for kumo's own. The sums of succeeded and failed equal the job's progress counts exactly.",
      params: jobIdParams,
      response: { 200: contributorsSchema, 404: errorSchema },
    },
    handler: async (req) => {
      if (!(await jobs.owner(req.params.id))) throw new KumoError('JOB_NOT_FOUND', `no job with id '${req.params.id}'`);
      return { contributors: await contributors.ofJob(req.params.id) };
    },
  });

  r.get('/v1/contributors', {
    config: { roles: READERS },
    schema: {
      summary: "The team's contributors table across jobs, by pool and since a time",
      description: `Counted per pool and UTC day, each day kept ${CONTRIBUTOR_DAYS_KEPT} days: \`since\` (ISO 8601, default ${DEFAULT_DAYS} days ago) reaches back that far at most, counting whole days. Without \`pool\`, every pool.`,
      querystring: z.strictObject({
        pool: poolNameSchema.optional(),
        since: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
      }),
      response: { 200: contributorsSchema, 400: errorSchema, 404: errorSchema },
    },
    handler: async (req) => {
      const now = clock.now();
      const since = req.query.since ? Date.parse(req.query.since) : now - DEFAULT_DAYS * 86_400_000;
      let names: string[];
      if (req.query.pool) {
        if (!(await pools.get(req.query.pool)))
          throw new KumoError('POOL_NOT_FOUND', `no pool named '${req.query.pool}'`);
        names = [req.query.pool];
      } else names = (await pools.list()).map((p) => p.name);
      return { contributors: await contributors.ofPools(names, since, now) };
    },
  });
}
