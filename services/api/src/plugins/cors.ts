import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * CORS only when origins are named (KUMO_CORS_ORIGINS): the dashboard is served from the API itself,
 * so a browser never needs it by default, and with no CORS headers another site's page cannot read
 * any answer. Bearer tokens, not cookies: credentials stay off.
 */
export async function installCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: [...origins],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
    credentials: false,
    maxAge: 600,
  });
}
