import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  isKumoError,
  KumoError,
  MAX_COMPLETIONS_PER_CALL,
  poolNameSchema,
  type Principal,
  type Role,
} from '@kumo/shared';
import type { CompletionResult } from '../workers/lease-completion';
import type { LeaseBroker } from '../workers/lease-broker';
import { errorSchema } from './schemas';

/** Worker tokens (scoped to one pool) and admins; nobody else leases tasks. */
const WORKERS: readonly Role[] = ['worker', 'admin'];
const workerId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, dot, dash, underscore');
const leaseId = z.uuid();

/** One lease's end, alone (what every agent sends) or as an item of a batch. */
const completion = z.discriminatedUnion('outcome', [
  z.strictObject({
    leaseId,
    outcome: z.literal('succeeded'),
    durationMs: z.number().min(0).optional(),
    result: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({
    leaseId,
    outcome: z.literal('failed'),
    durationMs: z.number().min(0).optional(),
    error: z.strictObject({
      code: z.string().min(1).max(64),
      message: z.string().max(4096),
      retryable: z.boolean(),
    }),
    logTail: z.string().max(65_536).optional(),
  }),
  z.strictObject({ leaseId, outcome: z.literal('released'), durationMs: z.number().min(0).optional() }),
]);

/** Leases ended together, each at most once (two ends of one lease in one call would race each other). */
const completionBatch = z.strictObject({
  workerId,
  completions: z
    .array(completion)
    .min(1)
    .max(MAX_COMPLETIONS_PER_CALL)
    .refine((cs) => new Set(cs.map((c) => c.leaseId)).size === cs.length, 'each lease at most once'),
});

/** Each lease's answer: ended, or refused as the single call would refuse it (its status's code; LEASE_LOST's reason). */
const completionResult = z.union([
  z.object({ leaseId: z.string(), ok: z.literal(true), final: z.boolean() }),
  z.object({
    leaseId: z.string(),
    error: z.object({
      code: z.string(),
      message: z.string(),
      retryable: z.boolean(),
      reason: z.string().optional(),
    }),
  }),
]);

function answerOf(r: CompletionResult, log: FastifyBaseLogger): z.infer<typeof completionResult> {
  if (!('error' in r)) return { leaseId: r.leaseId, ok: true, final: r.final };
  if (isKumoError(r.error) && r.error.code !== 'INTERNAL') {
    const reason = r.error.details?.reason;
    return {
      leaseId: r.leaseId,
      error: {
        code: r.error.code,
        message: r.error.message,
        retryable: r.error.retryable,
        ...(typeof reason === 'string' ? { reason } : {}),
      },
    };
  }
  // As the error handler answers a 500: logged here, its message hidden.
  log.error({ err: r.error, leaseId: r.leaseId }, 'a lease could not be ended');
  return { leaseId: r.leaseId, error: { code: 'INTERNAL', message: 'internal error', retryable: true } };
}

/** A worker token leases only from its own pool. */
function poolFor(who: Principal, asked: string): string {
  if (who.role === 'worker' && who.pool !== asked)
    throw new KumoError('FORBIDDEN', `this worker token is for pool '${who.pool}', not '${asked}'`);
  return asked;
}

/**
 * The HTTPS worker protocol, for workers on contributors' own machines that never see Redis:
 * lease -> (heartbeat, progress)* -> complete. See docs/https-workers.md.
 */
export function workerRoutes(app: FastifyInstance, broker: LeaseBroker): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/workers/lease', {
    config: { roles: WORKERS },
    schema: {
      summary: 'Lease up to `max` tasks of a pool; keep each alive with heartbeats, end it with complete',
      body: z.strictObject({ workerId, pool: poolNameSchema, max: z.int().min(1).max(64).default(1) }),
      response: {
        200: z.object({ tasks: z.array(z.record(z.string(), z.unknown())), leaseSeconds: z.number() }),
        403: errorSchema,
      },
    },
    handler: async (req) => {
      const pool = poolFor(req.principal, req.body.pool);
      const tasks = await broker.lease(req.principal, req.body.workerId, pool, req.body.max);
      return { tasks: tasks as unknown as Record<string, unknown>[], leaseSeconds: broker.leaseMs / 1000 };
    },
  });

  r.post('/v1/workers/heartbeat', {
    config: { roles: WORKERS },
    schema: {
      summary: 'Renew leases; answers which are held, which were lost, and which tasks to stop (their job ended)',
      body: z.strictObject({ workerId, leases: z.array(leaseId).max(256) }),
    },
    handler: async (req) => broker.heartbeat(req.principal, req.body.leases),
  });

  r.post('/v1/workers/progress', {
    config: { roles: WORKERS },
    schema: {
      summary: 'A leased task’s checkpoint (training) or in-task progress',
      body: z.strictObject({
        leaseId,
        checkpoint: z.record(z.string(), z.unknown()).optional(),
        progress: z.record(z.string(), z.unknown()).optional(),
      }),
    },
    handler: async (req, reply) => {
      if (req.body.checkpoint) await broker.report(req.principal, req.body.leaseId, 'c', req.body.checkpoint);
      if (req.body.progress) await broker.report(req.principal, req.body.leaseId, 'p', req.body.progress);
      return reply.status(204).send();
    },
  });

  r.post('/v1/workers/complete', {
    config: { roles: WORKERS },
    schema: {
      summary:
        'End leases: succeeded (with the task’s result), failed (with its error and log tail), or released (handed back, no attempt used); one lease, or up to 64 answered each on its own',
      body: z.union([completionBatch, completion]),
      response: {
        200: z.union([z.object({ final: z.boolean() }), z.object({ results: z.array(completionResult) })]),
        403: errorSchema,
        409: errorSchema,
      },
    },
    handler: async (req) => {
      const body = req.body;
      if (!('completions' in body)) {
        const { leaseId: id, ...outcome } = body;
        return broker.complete(req.principal, id, outcome);
      }
      const results = await broker.completeMany(req.principal, body.completions);
      return { results: results.map((r) => answerOf(r, req.log)) };
    },
  });
}
