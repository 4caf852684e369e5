import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { isTerminal, KumoError, type JobRecord } from '@kumo/shared';
import { READERS } from '../plugins/auth';
import { jobIdParams } from './schemas';

const KEEPALIVE_MS = 15_000;

/**
 * `GET /v1/jobs/:id/events`: `event: progress` with the job's progress on every change (coalesced by
 * the hub), `event: state` when the state moves, and `event: end` once the job has ended.
 */
/** What a refused stream is told to wait before trying again. */
const SSE_RETRY_AFTER_S = 5;

export function jobEventRoutes(app: FastifyInstance, opts: { ssePerToken: number; sseTotal: number }): void {
  const { ssePerToken, sseTotal } = opts;
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { jobs, hub } = app.kumo;

  r.get('/v1/jobs/:id/events', {
    config: { roles: READERS },
    schema: { summary: 'Live progress as text/event-stream', params: jobIdParams },
    handler: async (req, reply) => {
      const res = reply.raw;
      // Listened for before the first await: a client that leaves while the job is read must not leave
      // a watcher behind (its token's slot would stay taken until the API restarts). `close` fires once,
      // so a peer gone by the time the stream would start is seen through `res.destroyed` below.
      let cleanup = (): void => undefined;
      const onClose = (): void => cleanup();
      res.once('close', onClose);
      const job = await jobs.get(req.params.id);
      if (!job) throw new KumoError('JOB_NOT_FOUND', `no job with id '${req.params.id}'`);
      if (res.destroyed) {
        reply.hijack();
        return;
      }
      let lastState = job.state;
      let lastProgress = '';
      let ended = false;
      const send = (j: JobRecord): void => {
        if (ended) return;
        const progress = JSON.stringify(j.progress);
        if (j.state !== lastState) {
          res.write(`event: state\ndata: ${JSON.stringify({ state: j.state, reason: j.reason ?? null })}\n\n`);
          lastState = j.state;
        }
        if (progress !== lastProgress) {
          res.write(`event: progress\ndata: ${progress}\n\n`);
          lastProgress = progress;
        }
        if (isTerminal(j.state)) {
          ended = true;
          res.write(`event: end\ndata: ${JSON.stringify({ state: j.state })}\n\n`);
          cleanup();
          res.end();
        }
      };
      // Claimed before the stream starts, so a token over its cap (or a full API) gets a plain 429 with
      // our error shape, not a 200 stream that ends at once. The hub calls `send` only from a later tick.
      const unwatch = hub.watch(job.id, send, req.principal.tokenId);
      if (!unwatch) {
        void reply.header('retry-after', String(SSE_RETRY_AFTER_S));
        throw new KumoError(
          'RATE_LIMITED',
          `too many event streams open (at most ${ssePerToken} per token and ${sseTotal} on this API); close one, or retry later`,
        );
      }
      reply.hijack();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // The server's idle timeout (connectionTimeout) must never cut a stream that is quiet between
      // changes; the keepalive below notices a peer that went away. (An injected request's socket is a
      // stand-in without setTimeout.)
      const socket = req.raw.socket as { setTimeout?: (ms: number) => unknown } | undefined;
      if (typeof socket?.setTimeout === 'function') socket.setTimeout(0);
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
      cleanup = (): void => {
        clearInterval(keepalive);
        unwatch();
      };
      res.write(`event: state\ndata: ${JSON.stringify({ state: job.state, reason: job.reason ?? null })}\n\n`);
      lastProgress = JSON.stringify(job.progress);
      res.write(`event: progress\ndata: ${lastProgress}\n\n`);
      if (isTerminal(job.state)) send({ ...job, progress: { ...job.progress } });
      // A change between the read above and the watch would be missed: read once more.
      const again = await jobs.get(job.id);
      if (again) send(again);
    },
  });
}
