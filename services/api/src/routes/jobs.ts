import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { jobSpecSchema, KumoError, type JobRecord, type JobState, type JobStore } from '@kumo/shared';
import { assertPoolsFit } from './assert-pools-fit';
import { LIST_EXAMINE_MAX, listPage, RESULTS_EXAMINE_MAX, resultsPage } from './job-pages';
import { READERS, SUBMITTERS } from '../plugins/auth';
import { listingBytes } from '../plugins/quotas';
import { errorSchema, jobIdParams, jobRecordSchema, listJobsQuery, plainJsonSerializer } from './schemas';

// Its importers (pipelines, reruns) still find it here.
export { assertPoolsFit };

const evaluationsSchema = z.object({
  evaluations: z.array(
    z.object({
      step: z.number().int(),
      jobId: z.string(),
      state: z.string(),
      checkpoint: z.string(),
      scores: z.record(z.string(), z.number().nullable()),
    }),
  ),
});

const EXAMPLE = {
  kind: 'extraction',
  name: 'cc-main-2023-50-ja',
  source: { snapshot: 'CC-MAIN-2023-50', batches: 90000 },
  pool: 'local',
  run: { builtin: 'noop' },
};

export function jobRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { jobs, listings, pools, redis, keys } = app.kumo;

  /** The one answer for a job id that names no job. */
  const notFound = (id: string): KumoError => new KumoError('JOB_NOT_FOUND', `no job with id '${id}'`);
  /** For routes that read one part of a job (its failures, results, evaluations): the job must exist. */
  const assertJob = async (id: string): Promise<void> => {
    if (!(await jobs.owner(id))) throw notFound(id);
  };

  /** The job, if the caller may change it: admins any, submitters their own. */
  const ownJob = async (id: string, p: { role: string; name: string }): Promise<JobRecord> => {
    const job = await jobs.get(id);
    if (!job) throw notFound(id);
    if (p.role !== 'admin' && job.user !== p.name)
      throw new KumoError('FORBIDDEN', 'submitters change only their own jobs');
    return job;
  };

  r.post('/v1/jobs', {
    config: { roles: SUBMITTERS },
    schema: {
      summary: 'Submit a job (JSON, or YAML with Content-Type: application/yaml)',
      description: `A job is a record and a range of tasks; submission is O(1) in the task count. Example: ${JSON.stringify(EXAMPLE)}. A user past their quota of live jobs or of listing bytes held (KUMO_QUOTA_LIVE_JOBS, KUMO_QUOTA_LISTING_BYTES; admins are exempt) gets 429 QUOTA_EXCEEDED. An extraction's source.listing (an https:// URL, gs:// object or allowed local file listing WARC paths, gzip or plain) is read here: the job gets source.batches = the lines used and source.listingSha256; a listing refused is a 400 LISTING_NOT_ALLOWED, LISTING_INVALID or LISTING_UNREADABLE.`,
      headers: z.object({ 'idempotency-key': z.string().min(1).max(256).optional() }),
      body: jobSpecSchema,
      response: {
        200: jobRecordSchema,
        201: jobRecordSchema,
        400: errorSchema,
        401: errorSchema,
        409: errorSchema,
        413: errorSchema,
        429: errorSchema,
      },
    },
    handler: async (req, reply) => {
      await assertDependenciesExist(jobs, req.body.dependsOn);
      await assertPoolsFit(pools, req.body);
      const user = req.principal.role === 'admin' && req.body.user ? req.body.user : req.principal.name;
      const spec = { ...req.body, user };
      const key = req.headers['idempotency-key'];
      // A repeat of a keyed submit answers with its job before its listing is read again, and before
      // the quota is asked: the job it names is counted already.
      const prior = key ? await jobs.findIdempotent(req.principal.tokenId, key, spec) : undefined;
      if (prior) return reply.status(200).send(prior);
      // Room is taken before the listing is read (a user at the quota costs no read), then grown by it.
      const room = await app.userQuota.reserve(req.principal, user, 1);
      let made: string | undefined;
      let job: JobRecord;
      let created: boolean;
      try {
        const listed = await listings.resolve(spec);
        await room?.take([listingBytes(listed?.lines)]);
        ({ job, created } = await jobs.create({
          spec: listed?.spec ?? spec,
          user,
          ...(key ? { idempotencyKey: key, idempotencyScope: req.principal.tokenId } : {}),
          // The key is bound to the spec as submitted, so that a repeat matches before its listing is read.
          ...(listed ? { listing: listed.lines, fingerprintOf: spec } : {}),
        }));
        made = job.id;
      } finally {
        await room?.settle([made]);
      }
      req.log.info({ jobId: job.id, kind: job.kind, total: job.progress.total, created }, 'job submitted');
      return reply.status(created ? 201 : 200).send(job);
    },
  });

  r.get('/v1/jobs', {
    config: { roles: READERS },
    schema: {
      summary: 'List jobs, newest first, with cursor paging',
      description: `A filtered page looks at ${LIST_EXAMINE_MAX} jobs at most: it may hold fewer than limit jobs (even none) and still have a nextCursor; follow nextCursor until it is null.`,
      querystring: listJobsQuery,
    },
    handler: async (req) => {
      const q = req.query;
      const page = await listPage(redis, keys, jobs, {
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
    schema: {
      summary: 'A job with its state and progress',
      params: jobIdParams,
      response: { 200: jobRecordSchema, 404: errorSchema },
    },
    serializerCompiler: plainJsonSerializer,
    handler: async (req) => {
      const job = await jobs.getShared(req.params.id);
      if (!job) throw notFound(req.params.id);
      return job;
    },
  });

  r.post('/v1/jobs/:id/cancel', {
    config: { roles: SUBMITTERS },
    schema: {
      summary: 'Cancel: running tasks are stopped, nothing new starts',
      params: jobIdParams,
      response: { 200: jobRecordSchema, 404: errorSchema, 409: errorSchema },
    },
    handler: async (req) => {
      await ownJob(req.params.id, req.principal);
      const job = await jobs.cancel(req.params.id, `cancelled by ${req.principal.name}`);
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
      const job = await ownJob(req.params.id, req.principal);
      if (job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled')
        throw new KumoError('JOB_ALREADY_FINISHED', `job '${job.id}' already ended ${job.state}`);
      await jobs.hold(job.id, null, { maxCostUsd: req.body.budget.maxCostUsd });
      req.log.info({ jobId: job.id, maxCostUsd: req.body.budget.maxCostUsd }, 'job budget changed');
      return (await jobs.get(job.id))!;
    },
  });

  const holdRoute = (action: 'pause' | 'resume', to: 'paused' | 'running', from: JobState[], summary: string): void => {
    r.post(`/v1/jobs/:id/${action}`, {
      config: { roles: SUBMITTERS },
      schema: { summary, params: jobIdParams, response: { 200: jobRecordSchema, 404: errorSchema, 409: errorSchema } },
      handler: async (req) => {
        const job = await ownJob(req.params.id, req.principal);
        const after = await jobs.hold(job.id, to, {
          from,
          reason: action === 'pause' ? `paused by ${req.principal.name}` : '',
        });
        if (after !== to) throw new KumoError('CONFLICT', `job '${job.id}' is ${after}: it cannot ${action}`);
        req.log.info({ jobId: job.id }, `job ${action}d`);
        return (await jobs.get(job.id))!;
      },
    });
  };
  holdRoute(
    'pause',
    'paused',
    ['queued', 'running', 'budget_exhausted'],
    'Pause: nothing new starts; tasks already running finish',
  );
  holdRoute('resume', 'running', ['paused'], 'Resume a paused job');

  r.get('/v1/jobs/:id/tasks', {
    config: { roles: READERS },
    schema: {
      summary:
        'Failed tasks of a job (final failures, or every task whose last attempt failed), with errors and log tails',
      params: jobIdParams,
      querystring: z.strictObject({
        state: z.enum(['failed', 'erroring']).default('failed'),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
    },
    handler: async (req) => {
      await assertJob(req.params.id);
      const tasks = await jobs.ledger.failures(req.params.id, {
        finalOnly: req.query.state === 'failed',
        limit: req.query.limit,
      });
      return { tasks };
    },
  });

  r.get('/v1/jobs/:id/results', {
    config: { roles: READERS },
    schema: {
      summary:
        'The task ledger: what each task reported with ::kumo::result lines (counts, outputs, scores), by index; page with afterIndex',
      description: `Pass nextAfterIndex back as afterIndex until it is null. A page looks up ${RESULTS_EXAMINE_MAX} task indices at most, so in a sparse ledger it may hold fewer than limit results (even none) and still have a nextAfterIndex.`,
      params: jobIdParams,
      querystring: z.strictObject({
        limit: z.coerce.number().int().min(1).max(10_000).default(1000),
        afterIndex: z.coerce.number().int().min(-1).optional(),
      }),
    },
    handler: async (req) => {
      await assertJob(req.params.id);
      return resultsPage(redis, keys, req.params.id, {
        limit: req.query.limit,
        ...(req.query.afterIndex !== undefined ? { afterIndex: req.query.afterIndex } : {}),
      });
    },
  });
  r.get('/v1/jobs/:id/evaluations', {
    config: { roles: READERS },
    schema: {
      summary:
        "A training job's checkpoints as evaluated so far (its evaluate block): per step, the evaluation job and each benchmark's score",
      description:
        'A score is the number a task reported as `score` in its ::kumo::result line; null until that task has one.',
      params: jobIdParams,
      response: { 200: evaluationsSchema, 404: errorSchema },
    },
    handler: async (req) => {
      await assertJob(req.params.id);
      const recorded = await jobs.evaluations.list(req.params.id);
      const records = await jobs.getMany(recorded.map((e) => e.jobId));
      const evaluations = await Promise.all(
        recorded.map(async ({ step, jobId }, n) => {
          const job = records[n];
          const spec = job?.spec.kind === 'evaluation' ? job.spec : undefined;
          const scores: Record<string, number | null> = Object.fromEntries(
            (spec?.benchmarks ?? []).map((b) => [b, null]),
          );
          for (const { index, result } of spec
            ? await jobs.ledger.results(jobId, { limit: spec.benchmarks.length })
            : []) {
            const benchmark = spec!.benchmarks[index];
            if (benchmark !== undefined && typeof result.score === 'number') scores[benchmark] = result.score;
          }
          return { step, jobId, state: job?.state ?? 'unknown', checkpoint: spec?.checkpoints[0] ?? '', scores };
        }),
      );
      return { evaluations };
    },
  });
}

/** A job may only depend on jobs that exist: a typo would otherwise wait forever, then fail. */
export async function assertDependenciesExist(
  jobs: JobStore,
  deps: string[] | undefined,
  path: (string | number)[] = ['dependsOn'],
): Promise<void> {
  if (!deps?.length) return;
  const found = await jobs.getMany(deps);
  const issues = deps.flatMap((d, i) => (found[i] ? [] : [{ path: [...path, i], message: `no job with id '${d}'` }]));
  if (issues.length) throw new KumoError('INVALID_INPUT', 'dependsOn names jobs that do not exist', { issues });
}
