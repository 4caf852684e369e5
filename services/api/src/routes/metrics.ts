import type { FastifyInstance } from 'fastify';
import { KumoMetrics } from '../metrics/metrics-registry';
import { READERS } from '../plugins/auth';

/** GET /metrics: Prometheus text format, for readers (a scraper carries a viewer token). */
export function metricsRoutes(app: FastifyInstance): void {
  const metrics = new KumoMetrics(app.kumo);
  app.addHook('onClose', () => metrics.close());
  app.get('/metrics', { config: { roles: READERS }, schema: { hide: true } }, async (_req, reply) => {
    const body = await metrics.render();
    return reply.type(metrics.contentType).send(body);
  });
}
