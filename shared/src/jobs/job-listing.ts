import type { Redis } from 'ioredis';
import { KumoError } from '../errors';

/** Days a listing job's lines are kept after it ended: a rerun of its tasks reads them. */
export const LISTING_KEPT_DAYS = 30;

/** Lines per RPUSH: big enough to be few commands, small enough that none blocks Redis for long. */
const CHUNK = 10_000;

/**
 * Writes a listing job's lines to its list key, whole, in one pipelined round trip of RPUSH chunks.
 * The key is the new job's own (its id is fresh), so the DEL only guards against a half-written list
 * from a crash of this very call. Throws (and leaves nothing) if any chunk failed.
 */
export async function writeListing(redis: Redis, key: string, lines: readonly string[]): Promise<void> {
  const pipe = redis.pipeline();
  pipe.del(key);
  for (let from = 0; from < lines.length; from += CHUNK) pipe.rpush(key, ...lines.slice(from, from + CHUNK));
  const out = (await pipe.exec()) ?? [];
  const failed = out.find(([err]) => err);
  const length = out.length > 1 ? Number(out[out.length - 1]![1]) : 0;
  if (failed || length !== lines.length) {
    await redis.del(key).catch(() => undefined);
    throw new KumoError('INTERNAL', `the listing was not stored (${length} of ${lines.length} lines)`, {
      cause: failed?.[0] ?? undefined,
    });
  }
}

/** A rerun's copy of its job's stored lines (COPY, in Redis); LISTING_EXPIRED when they are gone. */
export async function copyListing(redis: Redis, from: string, to: string): Promise<void> {
  if ((await redis.copy(from, to, 'REPLACE')) !== 1) {
    throw new KumoError(
      'LISTING_EXPIRED',
      `the job's listing lines are kept ${LISTING_KEPT_DAYS} days after it ended, and are gone`,
    );
  }
  await redis.persist(to);
}

/** Lines [from, to) of a stored listing; TASK_INVALID if the list does not hold them all (it never should). */
export async function readListing(redis: Redis, key: string, from: number, to: number): Promise<string[]> {
  if (to <= from) return [];
  const lines = await redis.lrange(key, from, to - 1);
  if (lines.length !== to - from) {
    throw new KumoError('TASK_INVALID', `the job's listing holds ${lines.length} of lines ${from}..${to - 1}`);
  }
  return lines;
}
