import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { jobSpecSchema, KumoError, nameSchema, newId } from '@kumo/shared';
import { READERS, SUBMITTERS } from '../plugins/auth';
import { listingBytes } from '../plugins/quotas';
import { errorSchema } from './schemas';
import { assertPoolsFit } from './jobs';

const stageName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'stage names are lowercase letters, digits and dashes');

const pipelineSchema = z
  .strictObject({
    name: nameSchema,
    stages: z
      .array(
        z.strictObject({
          name: stageName,
          /** Stages that must succeed first; they must come earlier in the list. */
          after: z.array(stageName).max(32).default([]),
          job: jobSpecSchema,
        }),
      )
      .min(1)
      .max(32),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.stages.forEach((s, i) => {
      if (seen.has(s.name))
        ctx.addIssue({ code: 'custom', path: ['stages', i, 'name'], message: `stage '${s.name}' appears twice` });
      s.after.forEach((a, j) => {
        if (!seen.has(a))
          ctx.addIssue({ code: 'custom', path: ['stages', i, 'after', j], message: `'${a}' is not an earlier stage` });
      });
      seen.add(s.name);
    });
  });

const pipelineViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  user: z.string(),
  createdAt: z.string(),
  state: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  stages: z.array(
    z.object({
      name: z.string(),
      after: z.array(z.string()),
      jobId: z.string(),
      state: z.string(),
      reason: z.string().nullable(),
      progress: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
});

interface PipelineRecord {
  id: string;
  name: string;
  user: string;
  createdAt: string;
  stages: { name: string; after: string[]; jobId: string }[];
}

/**
 * A pipeline (extract -> clean -> train -> evaluate) is one submission: one job per stage, each
 * depending on the jobs of the stages it comes after. A stage starts when its inputs succeeded; a
 * failure fails what depends on it, visibly (reason DEPENDENCY_FAILED).
 */
export function pipelineRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { jobs, redis, keys, listings, pools } = app.kumo;

  const view = async (p: PipelineRecord) => {
    const recs = await jobs.getMany(p.stages.map((s) => s.jobId));
    const stages = p.stages.map((s, i) => ({
      ...s,
      // Gone: the stage's job was deleted, which only an ended job can be.
      state: recs[i]?.state ?? 'deleted',
      reason: recs[i]?.reason ?? null,
      progress: recs[i]?.progress ?? null,
    }));
    const states = stages.map((s) => s.state);
    const state: z.infer<typeof pipelineViewSchema>['state'] = states.every((s) => s === 'succeeded' || s === 'deleted')
      ? 'succeeded'
      : states.some((s) => s === 'failed')
        ? 'failed'
        : states.some((s) => s === 'cancelled')
          ? 'cancelled'
          : states.some((s) => s !== 'queued')
            ? 'running'
            : 'queued';
    return {
      ...p,
      state,
      stages: stages.map((s) => ({ ...s, progress: s.progress as Record<string, unknown> | null })),
    };
  };

  r.post('/v1/pipelines', {
    config: { roles: SUBMITTERS },
    schema: {
      summary: 'Submit a pipeline: one job per stage, each starting when the stages it comes after succeeded',
      body: pipelineSchema,
      response: { 201: pipelineViewSchema, 400: errorSchema },
    },
    handler: async (req, reply) => {
      const user = req.principal.name;
      const id = newId('pip');
      const byName = new Map<string, string>();
      const stages: PipelineRecord['stages'] = [];
      // Every stage's pools are checked and its listing read before any job is made: a bad stage refuses
      // the whole pipeline, leaving no earlier stage's job behind.
      for (const [i, s] of req.body.stages.entries()) {
        if (!(await pools.get(s.job.pool))) {
          throw new KumoError(
            'INVALID_INPUT',
            `pool '${s.job.pool}' does not exist; create it with PUT /v1/pools/${s.job.pool}`,
            {
              issues: [{ path: ['stages', i, 'job', 'pool'], message: `no pool named '${s.job.pool}'` }],
            },
          );
        }
        await assertPoolsFit(pools, s.job, ['stages', i, 'job']);
      }
      // Quotas: room for every stage's job before any listing is read, grown by the listings read.
      const room = await app.userQuota.reserve(req.principal, user, req.body.stages.length);
      try {
        const listed = [];
        for (const [i, s] of req.body.stages.entries())
          listed.push(await listings.resolve(s.job, ['stages', i, 'job']));
        await room?.take(listed.map((l) => listingBytes(l?.lines)));
        for (const [i, s] of req.body.stages.entries()) {
          const dependsOn = [...(s.job.dependsOn ?? []), ...s.after.map((a) => byName.get(a)!)];
          const base = listed[i]?.spec ?? s.job;
          const spec = {
            ...base,
            user,
            labels: { ...s.job.labels, pipeline: id, stage: s.name },
            ...(dependsOn.length ? { dependsOn } : {}),
          };
          const { job } = await jobs.create({ spec, user, ...(listed[i] ? { listing: listed[i].lines } : {}) });
          byName.set(s.name, job.id);
          stages.push({ name: s.name, after: s.after, jobId: job.id });
        }
      } finally {
        await room?.settle(req.body.stages.map((_, i) => stages[i]?.jobId));
      }
      const rec: PipelineRecord = {
        id,
        name: req.body.name,
        user,
        createdAt: new Date(app.kumo.clock.now()).toISOString(),
        stages,
      };
      await redis.set(keys.pipeline(id), JSON.stringify(rec));
      req.log.info({ pipelineId: id, stages: stages.length }, 'pipeline submitted');
      return reply.status(201).send(await view(rec));
    },
  });

  r.get('/v1/pipelines/:id', {
    config: { roles: READERS },
    schema: {
      summary: 'A pipeline with the state and progress of each stage',
      params: z.object({ id: z.string().min(1).max(64) }),
      response: { 200: pipelineViewSchema, 404: errorSchema },
    },
    handler: async (req) => {
      const raw = await redis.get(keys.pipeline(req.params.id));
      if (!raw) throw new KumoError('NOT_FOUND', `no pipeline with id '${req.params.id}'`);
      return view(JSON.parse(raw) as PipelineRecord);
    },
  });
}
