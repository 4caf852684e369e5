import { KumoError } from '../errors';
export { runCleanupSteps } from '../shutdown';
import { TOPICS, type SubscribeOptions, type Topic } from './bus';

/** What both buses do with `SubscribeOptions`, filled in (the public type leaves every field optional). */
export interface SubscribeConfig {
  concurrency: number;
  ackDeadlineMs: number;
}

export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_ACK_DEADLINE_MS = 30_000;
/** Deliveries of one message before a bus gives up on it and parks it as a dead letter. */
export const DEFAULT_MAX_DELIVERY_ATTEMPTS = 20;

/**
 * A group becomes part of a Pub/Sub subscription name (`kumo-progress-<group>`) and of Redis consumer
 * group names, so both buses accept only what both transports can carry: Pub/Sub allows letters,
 * digits and `-._~%+`, 3 to 255 characters in all; we keep to a plain, portable subset.
 */
const GROUP_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]{0,99}$/;

export function assertTopic(topic: string): asserts topic is Topic {
  if (!(TOPICS as readonly string[]).includes(topic)) {
    throw new KumoError('INVALID_INPUT', `unknown bus topic '${topic}'`, { details: { topic, topics: TOPICS } });
  }
}

export function assertGroup(group: string): void {
  if (!GROUP_PATTERN.test(group)) {
    throw new KumoError('INVALID_INPUT', `bus group '${group}' must match ${GROUP_PATTERN}`, { details: { group } });
  }
}

export function resolveSubscribeOptions(opts: SubscribeOptions | undefined): SubscribeConfig {
  const concurrency = opts?.concurrency ?? DEFAULT_CONCURRENCY;
  const ackDeadlineMs = opts?.ackDeadlineMs ?? DEFAULT_ACK_DEADLINE_MS;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new KumoError('INVALID_INPUT', 'subscribe concurrency must be an integer >= 1', { details: { concurrency } });
  }
  if (!Number.isFinite(ackDeadlineMs) || ackDeadlineMs < 100) {
    throw new KumoError('INVALID_INPUT', 'subscribe ackDeadlineMs must be at least 100', {
      details: { ackDeadlineMs },
    });
  }
  return { concurrency, ackDeadlineMs };
}

/**
 * How many messages a subscriber holds beyond those in its handlers (prefetched, or waiting for their
 * ack to be flushed). It grows with concurrency, so fast consumers read in large batches and never wait
 * on an ack round trip, but stays small for slow, low-concurrency ones, so one of them does not hoard
 * messages a peer in its group could be handling.
 */
export function readAhead(concurrency: number, cap = 100): number {
  return Math.max(concurrency, Math.min(cap, concurrency * 4));
}
