import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KumoError } from '@kumo/shared';
import type { ApiLimits } from '../limits';
import { AuthFailureLimiter } from './auth-failures';
import { installQuotas } from './quotas';

/** Probes come from the platform every few seconds and must never be told to wait. */
const UNLIMITED = new Set(['/healthz', '/readyz']);

/**
 * A worker token is shared by every VM of its pool, so workers are limited per token and address (each
 * VM its own budget); every other token is limited as one, wherever it is used from.
 */
function keyGenerator(req: FastifyRequest): string {
  const p = req.principal;
  if (!p) return `ip:${req.ip}`;
  return p.role === 'worker' ? `t:${p.tokenId}:${req.ip}` : `t:${p.tokenId}`;
}

/**
 * Per-token rate limits: `rateBurst` requests per window, the window sized so the long-run rate is
 * `ratePerMinute` (3000/min, burst 200 -> 200 per 4 s). Keyed by the token's id, never the token
 * itself, so no secret sits in the limiter's memory; the open routes are keyed by client address.
 * The limiter's hooks are route hooks, which Fastify runs after the app's own onRequest hooks, so the
 * principal is known by then, and a request refused by auth (401) never costs its token a slot.
 * In memory, per API process: two APIs behind a balancer allow a token up to twice the rate.
 */
export async function installRateLimit(
  app: FastifyInstance,
  limits: Pick<
    ApiLimits,
    'ratePerMinute' | 'rateBurst' | 'authFailuresPerMinute' | 'liveJobsPerUser' | 'listingBytesPerUser'
  >,
): Promise<void> {
  // The other per-client limits come with it, from the same settings: wrong tokens per address
  // (plugins/auth.ts asks before it looks a token up), and per-user quotas on what submissions store.
  app.decorate('authFailures', new AuthFailureLimiter({ perMinute: limits.authFailuresPerMinute }));
  installQuotas(app, limits);
  if (limits.ratePerMinute <= 0) return;
  const windowMs = Math.max(1000, Math.round((limits.rateBurst / limits.ratePerMinute) * 60_000));
  await app.register(rateLimit, {
    global: true,
    max: limits.rateBurst,
    timeWindow: windowMs,
    cache: 50_000,
    keyGenerator,
    allowList: (req: FastifyRequest) => UNLIMITED.has(req.routeOptions.url ?? ''),
    errorResponseBuilder: (_req, ctx) =>
      new KumoError(
        'RATE_LIMITED',
        `rate limit of ${ctx.max} requests per ${Math.round(windowMs / 1000)} s reached; retry in ${ctx.after}`,
      ),
  });
}
