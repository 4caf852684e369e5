import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { jobSpecSchema, KumoError } from '@kumo/shared';
import { READERS, SUBMITTERS } from '../plugins/auth';
import { errorSchema, jobIdParams, jobRecordSchema, listJobsQuery } from './schemas';

const EXAMPLE = {
  kind: 'extraction',
  name: 'cc-main-2023-50-ja',
  source: { snapshot: 'CC-MAIN-2023-50', batches: 90000 },
  pool: 'local',
  run: { builtin: 'noop' },
};

export function jobRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { jobs } = app.kumo;

  r.post('/v1/jobs', {
    config: { roles: SUBMITTERS },
    schema: {
      summary: 'Submit a job (JSON, or YAML with Content-Type: application/yaml)',
      description: `A job is a record and a range of tasks; submission is O(1) in the task count. Example: ${JSON.stringify(EXAMPLE)}`,
      headers: z.object({ 'idempotency-key': z.string().min(1).max(256).optional() }),
      body: jobSpecSchema,
      response: { 200: jobRecordSchema, 201: jobRecordSchema, 400: errorSchema, 401: errorSchema, 409: errorSchema, 413: errorSchema },
    },
    handler: async (req, reply) => {
      const spec = req.body;
      const user = req.principal.role === 'admin' && spec.user ? spec.user : req.principal.name;
      const key = req.headers['idempotency-key'];
      const { job, created } = await jobs.create({ spec: { ...spec, user }, user, ...(key ? { idempotencyKey: key, idempotencyScope: req.principal.tokenId } : {}) });
      req.log.info({ jobId: job.id, kind: job.kind, total: job.progress.total, created }, 'job submitted');
      return reply.status(created ? 201 : 200).send(job);
    },
  });

  r.get('/v1/jobs', {
    config: { roles: READERS },
    schema: { summary: 'List jobs, newest first, with cursor paging', querystring: listJobsQuery },
    handler: async (req) => {
      const q = req.query;
      const page = await jobs.list({
        limit: q.limit,
        ...(q.cursor ? { cursor: q.cursor } : {}),
        ...(q.state ? { state: q.state as never } : {}),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.pool ? { pool: q.pool } : {}),
        ...(q.user ? { user: q.user } : {}),
      });
      return { jobs: page.jobs, nextCursor: page.nextCursor };
    },
  });

  r.get('/v1/jobs/:id', {
    config: { roles: READERS },
    schema: { summary: 'A job with its state and progress', params: jobIdParams, response: { 200: jobRecordSchema, 404: errorSchema } },
    handler: async (req) => {
      const job = await jobs.get(req.params.id);
      if (!job) throw new KumoError('JOB_NOT_FOUND', `no job with id '${req.params.id}'`);
      return job;
    },
  });

  r.post('/v1/jobs/:id/cancel', {
    config: { roles: SUBMITTERS },
    schema: { summary: 'Cancel: running tasks are stopped, nothing new starts', params: jobIdParams, response: { 200: jobRecordSchema, 404: errorSchema, 409: errorSchema } },
    handler: async (req) => {
      const p = req.principal;
      if (p.role !== 'admin') {
        const job = await jobs.get(req.params.id);
        if (!job) throw new KumoError('JOB_NOT_FOUND', `no job with id '${req.params.id}'`);
        if (job.user !== p.name) throw new KumoError('FORBIDDEN', 'submitters cancel only their own jobs');
      }
      const job = await jobs.cancel(req.params.id, `cancelled by ${p.name}`);
      req.log.info({ jobId: job.id }, 'job cancelled');
      return job;
    },
  });

  r.patch('/v1/jobs/:id', {
    config: { roles: SUBMITTERS },
    schema: {
      summary: 'Change a job’s budget; a job paused at its budget resumes when the new one leaves room',
      params: jobIdParams,
      body: z.strictObject({ budget: z.strictObject({ maxCostUsd: z.number().min(0).max(10_000_000) }) }),
      response: { 200: jobRecordSchema, 404: errorSchema, 409: errorSchema },
    },
    handler: async (req) => {
      const job = await jobs.get(req.params.id);
      if (!job) throw new KumoError('JOB_NOT_FOUND', `no job with id '${req.params.id}'`);
      if (req.principal.role !== 'admin' && job.user !== req.principal.name) throw new KumoError('FORBIDDEN', 'submitters change only their own jobs');
      if (job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled') throw new KumoError('JOB_ALREADY_FINISHED', `job '${job.id}' already ended ${job.state}`);
      await jobs.setBudget(job.id, 'set', { maxCostUsd: req.body.budget.maxCostUsd });
      req.log.info({ jobId: job.id, maxCostUsd: req.body.budget.maxCostUsd }, 'job budget changed');
      return (await jobs.get(job.id))!;
    },
  });

  r.get('/v1/jobs/:id/tasks', {
    config: { roles: READERS },
    schema: {
      summary: 'Failed tasks of a job (final failures, or every task whose last attempt failed), with errors and log tails',
      params: jobIdParams,
      querystring: z.strictObject({ state: z.enum(['failed', 'erroring']).default('failed'), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
    },
    handler: async (req) => {
      if (!(await jobs.pool(req.params.id))) throw new KumoError('JOB_NOT_FOUND', `no job with id '${req.params.id}'`);
      const tasks = await jobs.failures(req.params.id, { finalOnly: req.query.state === 'failed', limit: req.query.limit });
      return { tasks };
    },
  });

  r.get('/v1/jobs/:id/results', {
    config: { roles: READERS },
    schema: { summary: 'What tasks reported with ::kumo::result lines, one row per task', params: jobIdParams },
    handler: async (req) => {
      if (!(await jobs.pool(req.params.id))) throw new KumoError('JOB_NOT_FOUND', `no job with id '${req.params.id}'`);
      return { results: await jobs.results(req.params.id) };
    },
  });
}
