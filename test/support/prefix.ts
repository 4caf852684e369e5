import { Redis } from 'ioredis';
import { inject } from 'vitest';
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
