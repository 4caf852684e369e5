import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { buildApp, type ApiLimits } from '@kumo/api';
import { createBus, createLogger, LOCAL_POOL_DEFAULTS, PoolStore, poolSettingsSchema } from '@kumo/shared';
import { testPrefix } from './prefix';

export const ADMIN = 'test-admin-token-0123456789';

/** The API on the test Redis, with its own prefix and a `local` pool; `cleanup` removes every key. */
export async function testApi(
  redisUrl: string,
  opts: { limits?: Partial<ApiLimits> } = {},
): Promise<{ app: FastifyInstance; prefix: string; redis: Redis; cleanup(): Promise<void> }> {
  const prefix = testPrefix('api');
  const redis = new Redis(redisUrl);
  await new PoolStore(redis, { prefix }).put('local', poolSettingsSchema.parse(LOCAL_POOL_DEFAULTS));
  const logger = createLogger({ name: 'test', level: 'silent' });
  // The bus `npm start` would give it: Redis Streams under the same prefix.
  const bus = await createBus({ kind: 'redis', redisUrl, prefix, logger });
  const app = await buildApp({
    redisUrl,
    prefix,
    adminToken: ADMIN,
    logger,
    bus,
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  await app.ready();
  return {
    app,
    prefix,
    redis,
    cleanup: async () => {
      await app.close();
      await bus.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    },
  };
}

export const auth = (token = ADMIN): Record<string, string> => ({ authorization: `Bearer ${token}` });

export const MINIMAL_SPEC = {
  kind: 'extraction',
  name: 'cc-main-2023-50-ja',
  source: { snapshot: 'CC-MAIN-2023-50', batches: 90000 },
  pool: 'local',
  run: { builtin: 'noop' },
};
