import type { Redis } from 'ioredis';
import type { Logger } from '../logger';

/** Where a subscription parks what it gives up on (its part of RedisStreamSubscriptionConfig). */
export interface DeadLetterTarget {
  key: string;
  deadKey: string;
  group: string;
  deadLetterMaxLen: number;
  commands: Redis;
}

/**
 * Parks a message no handler will ever take (unparseable, or failed `maxDeliveryAttempts` times) on
 * the group's dead-letter stream, and acks it, in one transaction: it is never both lost and acked.
 */
export async function deadLetter(
  cfg: DeadLetterTarget,
  log: Logger,
  entryId: string,
  fields: string[],
  attempts: number,
  reason: string,
): Promise<void> {
  const { key, deadKey, group, deadLetterMaxLen } = cfg;
  const results = await cfg.commands
    .multi()
    .xadd(
      deadKey,
      'MAXLEN',
      '~',
      deadLetterMaxLen,
      '*',
      ...fields,
      'kumo-entry',
      entryId,
      'kumo-attempts',
      attempts,
      'kumo-reason',
      reason,
    )
    .xack(key, group, entryId)
    .exec();
  const failed = results?.find(([err]) => err);
  if (!results || failed) throw failed?.[0] ?? new Error('dead-letter transaction aborted');
  log.warn({ entryId, attempts, reason, deadKey }, 'bus message dead-lettered');
}
