import { createHash } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, KumoError, SIMULATION_QUEUE, type ErrorCode } from '@kumo/shared';
import { errorAnswer } from '../plugins/error-handler';

export const ADMIN_QUEUES_PATH = '/admin/queues';
export const ADMIN_COOKIE = 'kumo_admin';
/** How long the board's cookie lasts: a working day, then visit `?token=` again. */
const COOKIE_MAX_AGE_S = 8 * 3600;

/**
 * bull-board for admins at /admin/queues: every pool's task queue and the simulations queue. It is a
 * browser UI, which cannot send an Authorization header, so it also takes the admin token from a cookie,
 * set by visiting `/admin/queues?token=<admin token>` once (HttpOnly: page scripts cannot read it;
 * SameSite=Strict: another site cannot make the browser use it, so no cross-site retry/clean; Path=/admin).
 * The board lives in its own plugin scope with its own error handler, so auth answers here directly
 * rather than throwing into bull-board's handler. Its routes are hidden from /openapi.json.
 */
export function adminQueuesRoutes(app: FastifyInstance): void {
  void app.register(async (scope) => {
    const queues = app.kumo.queues;
    const board = new FastifyAdapter();
    board.setBasePath(ADMIN_QUEUES_PATH);
    const { replaceQueues } = createBullBoard({
      queues: [],
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'kumo queues' } },
    });
    let shown = '';
    // Pools come and go (PUT /v1/pools/:name): the board follows them on each request.
    const syncQueues = async (): Promise<void> => {
      const names = [...(await app.kumo.pools.list()).map((p) => queues.forPool(p.name).name), SIMULATION_QUEUE];
      const key = names.join(',');
      if (key === shown) return;
      replaceQueues(names.map((n) => new BullMQAdapter(queues.byName(n))));
      shown = key;
    };

    scope.addHook('onRequest', async (req, reply) => {
      const denied = await authenticate(app, req, reply);
      if (denied) return denied;
      await syncQueues();
    });
    await scope.register(board.registerPlugin(), { prefix: ADMIN_QUEUES_PATH });
  });
}

/** Sends the answer and returns the reply when the request may not go on; undefined when it may. */
async function authenticate(
  app: FastifyInstance,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const url = new URL(req.url, 'http://kumo');
  const fromQuery = req.method === 'GET' ? url.searchParams.get('token') : null;
  const header = req.headers.authorization ? /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization)?.[1] : undefined;
  const token = header ?? fromQuery ?? cookie(req.headers.cookie, ADMIN_COOKIE);
  if (!token)
    return deny(
      reply,
      'UNAUTHENTICATED',
      `send Authorization: Bearer <admin token>, or open ${ADMIN_QUEUES_PATH}?token=<admin token> once`,
    );
  // The board takes tokens too: a wrong one counts against its address as on every other route.
  const digest = createHash('sha256').update(token).digest('hex');
  const wait = app.authFailures?.waitFor(req.ip, digest) ?? 0;
  if (wait > 0)
    return reply
      .status(ERROR_CODES.RATE_LIMITED.status)
      .header('retry-after', String(wait))
      .send(
        errorAnswer(
          new KumoError('RATE_LIMITED', `too many requests with wrong tokens from this address; retry in ${wait} s`),
        ),
      );
  const principal = await app.resolvePrincipal(token);
  if (!principal) {
    app.authFailures?.record(req.ip);
    return deny(reply, 'UNAUTHENTICATED', 'unknown, revoked or expired token');
  }
  app.authFailures?.vouch(digest);
  if (principal.role !== 'admin')
    return deny(reply, 'FORBIDDEN', `role '${principal.role}' may not see the queue board`);
  req.principal = principal;
  if (fromQuery === null || header) return undefined;
  // Keep the token in the cookie and take it out of the address bar, the history and any Referer.
  url.searchParams.delete('token');
  const secure = req.protocol === 'https' ? '; Secure' : '';
  void reply.header(
    'set-cookie',
    `${ADMIN_COOKIE}=${encodeURIComponent(token)}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_MAX_AGE_S}${secure}`,
  );
  return reply.redirect(`${url.pathname}${url.search}`, 303);
}

function deny(
  reply: FastifyReply,
  code: Extract<ErrorCode, 'UNAUTHENTICATED' | 'FORBIDDEN'>,
  message: string,
): FastifyReply {
  return reply.status(ERROR_CODES[code].status).send(errorAnswer(new KumoError(code, message)));
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim()) || undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
