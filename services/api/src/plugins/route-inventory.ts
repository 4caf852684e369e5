import type { FastifyInstance } from 'fastify';
import type { Role } from '@kumo/shared';

export interface RouteEntry {
  method: string;
  url: string;
  /** The roles the route admits; undefined = open (no token). */
  roles: readonly Role[] | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route the app serves, in the order registered (HEAD twins included). */
    routeInventory: readonly RouteEntry[];
  }
}

/**
 * Records every route as it is added, with the roles it admits. `printRoutes` draws a tree that loses
 * the static part before a wildcard (`/ui/*` prints as `*`), so the role matrix test, and anything
 * else that must know every route, reads this list instead. Install before any route.
 */
export function installRouteInventory(app: FastifyInstance): void {
  const routes: RouteEntry[] = [];
  app.decorate('routeInventory', routes);
  app.addHook('onRoute', (r) => {
    const config = r.config as { roles?: readonly Role[] } | undefined;
    for (const method of Array.isArray(r.method) ? r.method : [r.method])
      routes.push({ method, url: r.url, roles: config?.roles });
  });
}
