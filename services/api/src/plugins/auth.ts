import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KumoError, type Principal, type Role, type TokenStore } from '@kumo/shared';
import type { AuthFailureLimiter } from './auth-failures';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    /** A token's principal, for routes that take the token from elsewhere than the header (routes/admin-queues.ts). */
    resolvePrincipal(token: string): Promise<Principal | undefined>;
    /** Wrong tokens per client address (plugins/rate-limit.ts installs it with the limits). */
    authFailures?: AuthFailureLimiter;
  }
  interface FastifyContextConfig {
    /** Roles allowed on the route; absent = open (health probes, docs, the dashboard's static files). */
    roles?: readonly Role[];
  }
}

const CACHE_MS = 2000;

/**
 * Bearer tokens: the admin token from the configuration (compared in constant time; never read from
 * Redis), or a minted token looked up by its hash, whose record must carry this API's MAC (TokenStore):
 * a record that a Redis writer made, edited or copied is refused like an unknown token. Lookups, refusals
 * included, are cached for 2 s: a revoked token stops working within that, and a forged record is logged
 * at most once per 2 s per token.
 */
export function installAuth(app: FastifyInstance, opts: { adminToken: string; tokens: TokenStore }): void {
  const cache = new Map<string, { p: Principal | undefined; at: number }>();
  const admin: Principal = { tokenId: 'admin', role: 'admin', name: 'admin' };
  // Hashed once: each request then hashes only what it sent (constant-time compare of equal lengths).
  const adminHash = createHash('sha256').update(opts.adminToken).digest();

  async function resolve(token: string): Promise<Principal | undefined> {
    if (timingSafeEqual(createHash('sha256').update(token).digest(), adminHash)) return admin;
    const hit = cache.get(token);
    const now = Date.now();
    if (hit && now - hit.at < CACHE_MS) return hit.p;
    const p = await opts.tokens.resolve(token);
    if (cache.size > 10_000) cache.clear();
    cache.set(token, { p, at: now });
    return p;
  }

  app.decorateRequest('principal', undefined as unknown as Principal);
  app.decorate('resolvePrincipal', resolve);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const roles = req.routeOptions.config.roles;
    if (!roles) return;
    const header = req.headers.authorization;
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) throw new KumoError('UNAUTHENTICATED', 'missing bearer token: send Authorization: Bearer <token>');
    // An address that sent too many wrong tokens has no new token looked up until its minute is over.
    // (The admin token never waits: it is checked in memory, with no lookup to spare.)
    const digest = app.authFailures ? createHash('sha256').update(m[1]!).digest() : undefined;
    if (digest && !timingSafeEqual(digest, adminHash))
      app.authFailures?.assertMayTry(req.ip, digest.toString('hex'), reply);
    const principal = await resolve(m[1]!);
    if (!principal) {
      app.authFailures?.record(req.ip);
      throw new KumoError('UNAUTHENTICATED', 'unknown, revoked or expired token');
    }
    if (digest) app.authFailures?.vouch(digest.toString('hex'));
    if (!roles.includes(principal.role))
      throw new KumoError('FORBIDDEN', `role '${principal.role}' may not ${req.method} ${req.routeOptions.url}`);
    req.principal = principal;
  });
}

export const READERS: readonly Role[] = ['admin', 'submitter', 'viewer'];
export const SUBMITTERS: readonly Role[] = ['admin', 'submitter'];
export const ADMINS: readonly Role[] = ['admin'];
