import type { TaskEvent } from '../progress/task-event';
import type { FleetEvent, ProvisionCommand } from '../fleet/messages';

/**
 * The bus: three topics, at-least-once delivery, unordered. Every message carries an id, and every
 * handler must be idempotent (apply by id, or by a state that a repeat cannot move twice).
 */
export interface TopicData {
  /** scheduler -> provisioner: create or delete a VM. */
  provision: ProvisionCommand;
  /** provisioner -> scheduler: what happened to a VM. */
  fleet: FleetEvent;
  /** workers -> ingester: task starts, ends, retries, hand-backs; batched per worker. */
  progress: ProgressBatch;
}
export type Topic = keyof TopicData;
export const TOPICS: readonly Topic[] = ['provision', 'fleet', 'progress'];

export interface ProgressBatch {
  workerId: string;
  events: TaskEvent[];
}

export interface BusMessage<T extends Topic = Topic> {
  /** Unique per publish; redeliveries of one publish carry the same id. */
  id: string;
  topic: T;
  publishedAt: number;
  /** 1 on first delivery; more on redelivery (where the transport knows). */
  deliveryAttempt: number;
  data: TopicData[T];
}

export type BusHandler<T extends Topic> = (msg: BusMessage<T>) => Promise<void>;

export interface SubscribeOptions {
  /** Messages handled at once by this subscriber. Default 16. */
  concurrency?: number;
  /** Unacked messages are redelivered after this long. Default 30 s. */
  ackDeadlineMs?: number;
}

export interface Subscription {
  /** Stops taking messages, waits for handlers in flight, then returns. Safe to call twice. */
  close(): Promise<void>;
}

export interface Bus {
  readonly kind: 'redis' | 'pubsub';
  /** Resolves once the message is durable on the bus. `id` defaults to a fresh UUID. */
  publish<T extends Topic>(topic: T, data: TopicData[T], opts?: { id?: string }): Promise<string>;
  /**
   * Each message is delivered to one subscriber of each `group` (a Pub/Sub subscription, a Redis
   * consumer group). A handler that resolves acks the message; one that throws leaves it to be redelivered.
   */
  subscribe<T extends Topic>(
    topic: T,
    group: string,
    handler: BusHandler<T>,
    opts?: SubscribeOptions,
  ): Promise<Subscription>;
  /** Closes every subscription, then the connections. Safe to call twice. */
  close(): Promise<void>;
}
