import type { Redis } from 'ioredis';

/** Error codes are the reasons; anything else is folded into OTHER so a label never carries free text. */
const REASON = /^[A-Z][A-Z0-9_]{0,63}$/;

export function provisionErrorReason(code: string | undefined): string {
  return code && REASON.test(code) ? code : 'OTHER';
}

/**
 * Counts a failed VM create in the Redis hash the API renders as kumo_provision_errors_total. The caller
 * counts only when the VM record really moved to failed, so a redelivered fleet event is not counted
 * twice; a crash between the move and this call loses one count (under-counting, never double).
 */
export async function countProvisionError(
  redis: Redis,
  key: string,
  pool: string,
  code: string | undefined,
): Promise<void> {
  await redis.hincrby(key, `${pool}|${provisionErrorReason(code)}`, 1);
}

export async function readProvisionErrors(
  redis: Redis,
  key: string,
): Promise<{ pool: string; reason: string; count: number }[]> {
  const h = await redis.hgetall(key);
  return Object.entries(h).map(([field, n]) => {
    const sep = field.indexOf('|');
    return { pool: field.slice(0, sep), reason: field.slice(sep + 1), count: Number(n) };
  });
}
