import { Redis } from 'ioredis';
import { inject, expect, it } from 'vitest';

it('the run owns a real redis-server on its own port, not the machine one', async () => {
  const url = inject('redisUrl');
  expect(url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
  expect(url.endsWith(':6379')).toBe(false);
  const redis = new Redis(url);
  expect(await redis.ping()).toBe('PONG');
  expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  await redis.quit();
});
