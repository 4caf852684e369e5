import type { Redis } from 'ioredis';

/** A consumer's place in a stream: the stream, its group, the consumer's name. */
export interface StreamConsumer {
  key: string;
  group: string;
  consumer: string;
}

/** XCLAIM / XACK argument lists are chunked so one command never carries an unbounded id list. */
export const IDS_PER_COMMAND = 1000;

/**
 * Entries handed back at close() without being handled get this idle time, so the next XAUTOCLAIM of
 * any consumer takes them at once instead of after a full ack deadline. Redis resets an idle time
 * longer than its own clock's epoch to 0, so this is "very long", not "infinite".
 */
const RELEASED_IDLE_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * Resets the idle time of every entry held here. XCLAIM with min-idle 0 would also take back an entry
 * another consumer claimed after our lease lapsed (event loop frozen past the deadline); both then
 * handle it, which at-least-once delivery and idempotent handlers allow.
 */
export async function renewLeases(redis: Redis, c: StreamConsumer, held: string[]): Promise<void> {
  for (const ids of chunks(held, IDS_PER_COMMAND)) {
    await redis.xclaim(c.key, c.group, c.consumer, 0, ...ids, 'JUSTID');
  }
}

/**
 * Entries read ahead that never reached a handler are made idle at once, with their delivery count put
 * back, so another consumer takes them now and their next delivery counts as this one did.
 */
export async function releaseUnhandled(
  redis: Redis,
  c: StreamConsumer,
  entries: { entryId: string; deliveryAttempt: number }[],
): Promise<void> {
  const byAttempt = new Map<number, string[]>();
  for (const e of entries) {
    const ids = byAttempt.get(e.deliveryAttempt) ?? [];
    ids.push(e.entryId);
    byAttempt.set(e.deliveryAttempt, ids);
  }
  for (const [attempt, all] of byAttempt) {
    for (const ids of chunks(all, IDS_PER_COMMAND)) {
      await redis.xclaim(
        c.key,
        c.group,
        c.consumer,
        0,
        ...ids,
        'IDLE',
        RELEASED_IDLE_MS,
        'RETRYCOUNT',
        attempt - 1,
        'JUSTID',
      );
    }
  }
}

/**
 * A consumer is deleted only when it owns no pending entry: DELCONSUMER would drop its entries from
 * the pending list, and nobody could ever claim them again. One that still owns entries stays listed
 * until a later pass (they are claimed by others after the deadline).
 */
export async function removeConsumerIfIdle(redis: Redis, c: StreamConsumer): Promise<void> {
  const pending = (await redis.xpending(c.key, c.group, '-', '+', 1, c.consumer)) as unknown[];
  if (pending.length === 0) await redis.xgroup('DELCONSUMER', c.key, c.group, c.consumer);
}

export function chunks<V>(items: V[], size: number): V[][] {
  const out: V[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
