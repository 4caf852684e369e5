import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  dropPastCap,
  KumoError,
  storeLogSink,
  TASK_LOG_MAX_BYTES,
  type ArtifactStore,
  type Principal,
  type Role,
} from '@kumo/shared';
import { READERS } from '../plugins/auth';
import { TaskLogReader, taskNotRun } from '../task-logs/task-log-reader';
import type { LeaseBroker } from '../workers/lease-broker';
import { jobIdParams } from './schemas';

const WORKERS: readonly Role[] = ['worker', 'admin'];
const taskParams = jobIdParams.extend({ index: z.coerce.number().int().min(0).max(9_999_999) });
const segmentParams = z.strictObject({
  leaseId: z.uuid(),
  offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/**
 * Task logs: read (whole, or followed while the task runs) from the artifact store, and written there
 * for HTTPS workers, which hold no store credentials. `store` unset: this API keeps no logs, and reads
 * answer as for a task that never ran.
 */
export function taskLogRoutes(
  app: FastifyInstance,
  o: { store: ArtifactStore | undefined; broker: LeaseBroker },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { jobs, redis, keys } = app.kumo;
  const reader = o.store ? new TaskLogReader({ store: o.store, redis, keys, jobs }) : undefined;

  r.get('/v1/jobs/:id/tasks/:index/log', {
    config: { roles: READERS },
    schema: {
      summary:
        "A task's log (text/plain): everything its latest attempt printed, stdout and stderr in the order read; ?attempt=N for another; ?follow=true streams it until the task ends",
      description:
        'Any task that ran, succeeded ones too. A log is capped per attempt (16 MiB by default): past it the head is dropped and a `[kumo: N bytes of this log were cut here ...]` line marks the cut. 404 TASK_NOT_RUN for a task (or attempt) that never ran; with follow, a task not started yet is waited for while its job lives.',
      params: taskParams,
      querystring: z.strictObject({
        attempt: z.coerce.number().int().min(1).max(1_000_000).optional(),
        follow: flag.default(false),
      }),
    },
    handler: async (req, reply) => {
      const { id, index } = req.params;
      if (!(await jobs.owner(id))) throw new KumoError('JOB_NOT_FOUND', `no job with id '${id}'`);
      if (!reader) throw taskNotRun(id, index, req.query.attempt);
      const gone = new AbortController();
      // The response closes when it is sent, or when the client leaves: a follower stops polling then.
      reply.raw.once('close', () => gone.abort());
      let attempt = await reader.attemptOf(id, index, req.query.attempt);
      if (attempt === undefined && req.query.follow && req.query.attempt === undefined)
        attempt = await reader.waitForAttempt(id, index, gone.signal);
      if (attempt === undefined) throw taskNotRun(id, index, req.query.attempt);
      void reply.header('x-kumo-attempt', String(attempt)).type('text/plain; charset=utf-8');
      if (!req.query.follow) return reply.send(Readable.from(reader.read(id, index, attempt)));
      // A follower may be quiet for long (a task printing nothing for minutes): the server's idle
      // timeout must not cut it; it ends with the task, or when the client leaves.
      const socket = req.raw.socket as { setTimeout?: (ms: number) => unknown } | undefined;
      if (typeof socket?.setTimeout === 'function') socket.setTimeout(0);
      return reply.send(Readable.from(reader.follow(id, index, attempt, gone.signal)));
    },
  });

  // HTTPS workers' segments, under the lease of the task: only its holder writes, only while it holds it.
  app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    );
    const s = scope.withTypeProvider<ZodTypeProvider>();
    const leased = async (who: Principal, leaseId: string) => {
      if (!o.store) throw new KumoError('CONFLICT', 'this API keeps no task logs');
      const t = await o.broker.leasedTask(who, leaseId);
      return { ...t, store: o.store, sink: storeLogSink(o.store, t.jobId, t.index, t.attempt) };
    };
    s.put('/v1/workers/leases/:leaseId/log/:offset', {
      config: { roles: WORKERS },
      schema: {
        summary: "An HTTPS worker writes one segment of a leased task's log (application/octet-stream)",
        params: segmentParams,
        querystring: z.strictObject({ last: flag.default(false) }),
      },
      handler: async (req, reply) => {
        const body = req.body;
        if (!Buffer.isBuffer(body))
          throw new KumoError('INVALID_INPUT', 'a log segment is sent as application/octet-stream');
        const { sink, store, jobId, index, attempt } = await leased(req.principal, req.params.leaseId);
        // The attempt's first segment: what an earlier run of it left (a hand-back keeps its number) goes first.
        if (req.params.offset === 0) await sink.clear();
        await sink.put(req.params.offset, body, req.query.last);
        // The worker keeps its own cap (KUMO_TASK_LOG_MAX_BYTES); this one holds whatever a worker does.
        await dropPastCap(store, jobId, index, attempt, req.params.offset + body.length, TASK_LOG_MAX_BYTES);
        return reply.status(204).send();
      },
    });
    s.delete('/v1/workers/leases/:leaseId/log/:offset', {
      config: { roles: WORKERS },
      schema: {
        summary: "An HTTPS worker drops the oldest segment of a leased task's log (its cap: the tail kept)",
        params: segmentParams,
        querystring: z.strictObject({ last: flag.default(false) }),
      },
      handler: async (req, reply) => {
        await (await leased(req.principal, req.params.leaseId)).sink.remove(req.params.offset, req.query.last);
        return reply.status(204).send();
      },
    });
  });
}
