import { Redis } from 'ioredis';
import { afterAll, inject } from 'vitest';
import { randomBytes } from 'node:crypto';

/** A key prefix no other test shares, so tests on one Redis never see each other's keys. */
export function testPrefix(name = 't'): string {
  return `${name}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key a test wrote under its prefix on the run's Redis. */
export async function deleteKeys(prefix: string, redisUrl: string = inject('redisUrl')): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}

/**
 * A Redis client on the run's Redis for the describe block that calls it: it registers the block's
 * afterAll, which deletes every key under `prefix` and closes the client. The client connects on its
 * first command (lazyConnect), as the block's tests start, not when the file is collected; a block
 * whose tests are all skipped opens no connection.
 */
export function redisForSuite(prefix: string): Redis {
  const redis = new Redis(inject('redisUrl'), { lazyConnect: true });
  afterAll(async () => {
    const left = await redis.keys(`${prefix}:*`);
    if (left.length) await redis.del(...left);
    await redis.quit();
  });
  return redis;
}
