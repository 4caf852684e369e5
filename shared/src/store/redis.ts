import { Redis, type RedisOptions } from 'ioredis';
import { KumoError } from '../errors';
import { createLogger, type Logger } from '../logger';

/** For connections whose owner passes no logger of its own. */
let fallbackLog: Logger | undefined;

/** How often one connection may log that it cannot reach Redis: it retries every 2 s at most. */
const ERROR_LOG_EVERY_MS = 10_000;

/**
 * Connections per role: commands for the API and stores; `blocking` for BullMQ workers
 * and stream readers, which must not fail requests while Redis restarts; `subscriber` for PUBLISH
 * channels. Each role gets its own connection, so a blocking read never queues behind API traffic.
 */
export type RedisRole = 'command' | 'blocking' | 'subscriber';

export function createRedis(
  url: string,
  role: RedisRole,
  name?: string,
  extra: { autoPipelining?: boolean; logger?: Logger } = {},
): Redis {
  const opts: RedisOptions = {
    // Commands issued in the same tick go out in one write: many concurrent API reads, few syscalls.
    enableAutoPipelining: extra.autoPipelining ?? false,
    connectionName: name ? `kumo-${name}-${role}` : `kumo-${role}`,
    // BullMQ requires null on blocking connections; the subscriber must also wait out a Redis restart.
    maxRetriesPerRequest: role === 'command' ? 20 : null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  };
  const conn = new Redis(url, opts);
  logConnectionErrors(
    conn,
    extra.logger ?? (fallbackLog ??= createLogger({ name: 'kumo' }).child({ component: 'redis' })),
    { role, connection: opts.connectionName },
  );
  return conn;
}

/**
 * Without an 'error' listener ioredis prints a stack trace to stderr on every failed reconnect of
 * every connection; this logs one structured line per connection now and then instead.
 */
export function logConnectionErrors(conn: Redis, logger: Logger, fields: Record<string, unknown>): void {
  let lastLogged = 0;
  conn.on('error', (err: unknown) => {
    const now = Date.now();
    if (now - lastLogged < ERROR_LOG_EVERY_MS) return;
    lastLogged = now;
    logger.warn({ err, ...fields }, 'redis connection error; retrying');
  });
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

/** Redis error replies start with their code (`BUSYGROUP ...`, `NOGROUP ...`): the protocol's error code. */
export function replyCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const match = /^([A-Z]+) /.exec(err.message);
  return match?.[1];
}

export async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

// The Lua loader, for the services' own scripts (metrics, quotas, the leader lease).
export { defineScript, reply, type LuaArg, type LuaScript } from './lua-script';
