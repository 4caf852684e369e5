import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { KumoError } from '../errors';

/** How long an Idempotency-Key names its job. */
export const IDEMPOTENCY_TTL_S = 24 * 3600;

/** What an idempotency key remembers of its request: a hash of its JSON. */
export function fingerprintOf(source: unknown): string {
  return createHash('sha256').update(JSON.stringify(source)).digest('hex').slice(0, 32);
}

/**
 * The job an idempotency key (its Redis key) already names, stored as `<job id>|<fingerprint>`; a key
 * reused for another request is IDEMPOTENCY_KEY_REUSED.
 */
export async function previousJobId(
  redis: Redis,
  idempotencyKey: string,
  fingerprintSource: unknown,
): Promise<string | undefined> {
  const prev = await redis.get(idempotencyKey);
  if (!prev) return undefined;
  const [prevId, prevFingerprint] = prev.split('|') as [string, string];
  if (prevFingerprint !== fingerprintOf(fingerprintSource)) {
    throw new KumoError(
      'IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key was already used for another request (job ${prevId})`,
    );
  }
  return prevId;
}
