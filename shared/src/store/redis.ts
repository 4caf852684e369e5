import { Redis, type RedisOptions } from 'ioredis';
import { KumoError } from '../errors';

/**
 * Connections per role (STYLE.md 7): commands for the API and stores; `blocking` for BullMQ workers
 * and stream readers, which must not fail requests while Redis restarts; `subscriber` for PUBLISH
 * channels. Each role gets its own connection, so a blocking read never queues behind API traffic.
 */
export type RedisRole = 'command' | 'blocking' | 'subscriber';

export function createRedis(url: string, role: RedisRole, name?: string, extra: { autoPipelining?: boolean } = {}): Redis {
  const opts: RedisOptions = {
    // Commands issued in the same tick go out in one write: many concurrent API reads, few syscalls.
    enableAutoPipelining: extra.autoPipelining ?? false,
    connectionName: name ? `kumo-${name}-${role}` : `kumo-${role}`,
    // BullMQ requires null on blocking connections; the subscriber must also wait out a Redis restart.
    maxRetriesPerRequest: role === 'command' ? 20 : null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
  return new Redis(url, opts);
}

/**
 * The control plane refuses a Redis that would silently drop data: with eviction on, BullMQ's and
 * kumo's keys can vanish under memory pressure and accepted jobs would be lost without a trace.
 */
export async function assertRedisSafe(redis: Redis): Promise<{ appendonly: boolean }> {
  const policy = (await redis.config('GET', 'maxmemory-policy')) as string[];
  if (policy[1] !== 'noeviction') {
    throw new KumoError(
      'REDIS_UNSAFE',
      `Redis maxmemory-policy is '${policy[1]}'; kumo needs 'noeviction' (evicted keys would lose accepted jobs). Set it with: CONFIG SET maxmemory-policy noeviction`,
    );
  }
  const aof = (await redis.config('GET', 'appendonly')) as string[];
  return { appendonly: aof[1] === 'yes' };
}
