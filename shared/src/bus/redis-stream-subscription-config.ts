import type { Redis } from 'ioredis';
import type { Logger } from '../logger';
import type { BusHandler, Topic } from './bus';

/** Runs claimIdle-1.lua: `(key, group, consumer, minIdleMs, cursor, count)`. */
export type ClaimIdleScript = (...args: (string | number)[]) => Promise<unknown>;

export interface RedisStreamSubscriptionConfig<T extends Topic> {
  topic: T;
  /** The topic's stream. */
  key: string;
  /** Where messages go after `maxDeliveryAttempts`, or when they cannot be parsed. */
  deadKey: string;
  group: string;
  /** Unique per subscription: the owner of this subscription's pending entries. */
  consumer: string;
  handler: BusHandler<T>;
  concurrency: number;
  ackDeadlineMs: number;
  /** Entries fetched per XREADGROUP / XAUTOCLAIM; also the read-ahead held beyond `concurrency`. */
  readBatch: number;
  blockMs: number;
  maxDeliveryAttempts: number;
  deadLetterMaxLen: number;
  /** Shared and never blocked: acks, lease renewals, dead letters, group bookkeeping. */
  commands: Redis;
  /** This subscription's own connection: XREADGROUP BLOCK and XAUTOCLAIM, one command at a time. */
  blocking: Redis;
  claimIdle: ClaimIdleScript;
  /** Drops from the stream what every group has acked (trimAcked-1.lua). */
  trimAcked: () => Promise<number>;
  /** Re-creates the consumer group (after a Redis without persistence restarted and forgot it). */
  ensureGroup: () => Promise<void>;
  logger: Logger;
  onClosed: () => void;
}
