import {
  Duration,
  PubSub,
  type ClientConfig,
  type CreateSubscriptionOptions,
  type Topic as PubSubTopic,
} from '@google-cloud/pubsub';
import { wallClock, type Clock } from '../clock';
import { KumoError } from '../errors';
import { newMessageId } from '../ids';
import { createLogger, type Logger } from '../logger';
import type { Bus, BusHandler, SubscribeOptions, Subscription, Topic, TopicData } from './bus';
import { GRPC, RETRYABLE_GRPC, grpcCode } from './grpc-status';
import { ID_ATTRIBUTE, PUBLISHED_AT_ATTRIBUTE, PubSubSubscription } from './pubsub-subscription';
import {
  DEFAULT_MAX_DELIVERY_ATTEMPTS,
  assertGroup,
  assertTopic,
  readAhead,
  resolveSubscribeOptions,
  runCleanupSteps,
} from './subscribe-options';

export interface PubSubBusOptions {
  /** Always passed: without it the client goes looking for credentials to learn it, even on an emulator. */
  projectId: string;
  /** Topics are `${topicPrefix}-${topic}`, subscriptions `${topicPrefix}-${topic}-${group}`. Default `'kumo'`. */
  topicPrefix?: string;
  /** `host:port` of an emulator or a test server. `PUBSUB_EMULATOR_HOST` is read by the library itself. */
  apiEndpoint?: string;
  /** Insecure gRPC without credentials (emulators). The library also infers it from a non-Google endpoint. */
  emulatorMode?: boolean;
  /**
   * Create missing topics and subscriptions (and each subscription's dead-letter topic, with a
   * subscription on it so dead letters are kept). Default true. Existing ones are never changed: where
   * Terraform owns them, their settings win.
   */
  createIfMissing?: boolean;
  /** Default: a `kumo` root logger. The bus logs under `{component: 'bus'}`. */
  logger?: Logger;
  /** Stamps `publishedAt`. Default the wall clock. */
  clock?: Clock;
  /** Dead-letter policy of subscriptions this bus creates; Pub/Sub allows 5 to 100. Default 20. */
  maxDeliveryAttempts?: number;
  /**
   * Retry policy of subscriptions this bus creates: how long Pub/Sub waits before redelivering a nacked
   * or expired message, growing from `min` to `max` with each attempt. Default 10 s to 600 s, so a
   * handler failing on a short outage does not burn its delivery attempts within a second.
   */
  retryBackoffMs?: { min: number; max: number };
}

/** Pub/Sub's limits on a lease (a modack or a stream's ack deadline), in seconds. */
const MAX_LEASE_S = 600;
const MIN_LEASE_S = 10;

/**
 * The bus on Google Cloud Pub/Sub, for production. One topic per bus topic; a bus group is a
 * subscription, so each group sees every message and its subscribers share them.
 *
 * Pub/Sub's own message id changes with every publish (a retried publish is a new message), so kumo's
 * id travels in the `kumo-id` attribute, and that is what handlers dedupe on.
 *
 * `ackDeadlineMs` sets the lease the client keeps on each message while its handler runs. Pub/Sub
 * leases are whole seconds from 10 to 600; against an emulator the floor is 1 s, so tests can be fast.
 * Subscriptions are created with an ack deadline of at least 10 s (the service's minimum); the client's
 * modack on receipt sets the effective lease.
 */
export class PubSubBus implements Bus {
  readonly kind = 'pubsub' as const;
  private readonly client: PubSub;
  private readonly prefix: string;
  private readonly createIfMissing: boolean;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly maxDeliveryAttempts: number;
  private readonly retryBackoffMs: { min: number; max: number };
  private readonly topics = new Map<string, PubSubTopic>();
  private readonly topicsReady = new Map<string, Promise<void>>();
  private readonly subscriptions = new Set<PubSubSubscription<Topic>>();
  private readonly publishing = new Set<Promise<unknown>>();
  private state: 'open' | 'closing' = 'open';
  private closing: Promise<void> | undefined;

  constructor(opts: PubSubBusOptions) {
    if (!opts.projectId) throw new KumoError('CONFIG_INVALID', 'PubSubBus needs a projectId');
    this.prefix = opts.topicPrefix ?? 'kumo';
    this.createIfMissing = opts.createIfMissing ?? true;
    this.log = (opts.logger ?? createLogger({ name: 'kumo' })).child({ component: 'bus', bus: 'pubsub' });
    this.clock = opts.clock ?? wallClock;
    this.maxDeliveryAttempts = opts.maxDeliveryAttempts ?? DEFAULT_MAX_DELIVERY_ATTEMPTS;
    this.retryBackoffMs = opts.retryBackoffMs ?? { min: 10_000, max: 600_000 };
    if (this.maxDeliveryAttempts < 5 || this.maxDeliveryAttempts > 100) {
      throw new KumoError('CONFIG_INVALID', 'PubSubBus maxDeliveryAttempts must be within 5..100 (a Pub/Sub limit)');
    }
    const { min, max } = this.retryBackoffMs;
    if (!(min >= 0 && max >= min && max <= MAX_LEASE_S * 1000)) {
      throw new KumoError('CONFIG_INVALID', 'PubSubBus retryBackoffMs must satisfy 0 <= min <= max <= 600000');
    }
    const config: ClientConfig = { projectId: opts.projectId };
    if (opts.apiEndpoint !== undefined) config.apiEndpoint = opts.apiEndpoint;
    if (opts.emulatorMode !== undefined) config.emulatorMode = opts.emulatorMode;
    // Naming the universe spares google-gax the credentials lookup it would otherwise do to learn it,
    // which against an emulator means probing the GCE metadata server (a delay and a warning).
    // Only with an explicit emulatorMode: it would also turn the library's emulator heuristic off.
    if (opts.emulatorMode === true) config.universeDomain = 'googleapis.com';
    this.client = new PubSub(config);
  }

  topicName(topic: Topic): string {
    return `${this.prefix}-${topic}`;
  }

  subscriptionName(topic: Topic, group: string): string {
    return `${this.prefix}-${topic}-${group}`;
  }

  async publish<T extends Topic>(topic: T, data: TopicData[T], opts?: { id?: string }): Promise<string> {
    this.assertOpen();
    assertTopic(topic);
    const id = opts?.id ?? newMessageId();
    const name = this.topicName(topic);
    const published = (async () => {
      if (this.createIfMissing) await this.ensureTopicOnce(name);
      await this.topicHandle(name).publishMessage({
        data: Buffer.from(JSON.stringify(data)),
        attributes: { [ID_ATTRIBUTE]: id, [PUBLISHED_AT_ATTRIBUTE]: String(this.clock.now()) },
      });
    })();
    this.publishing.add(published);
    try {
      await published;
      return id;
    } catch (err) {
      // The library has already retried the codes Pub/Sub calls transient; this is what remains.
      const code = grpcCode(err);
      throw new KumoError('INTERNAL', `bus publish to '${name}' failed`, {
        cause: err,
        retryable: code === undefined || RETRYABLE_GRPC.has(code),
        details: { topic, id, grpcCode: code },
      });
    } finally {
      this.publishing.delete(published);
    }
  }

  async subscribe<T extends Topic>(
    topic: T,
    group: string,
    handler: BusHandler<T>,
    opts?: SubscribeOptions,
  ): Promise<Subscription> {
    this.assertOpen();
    assertTopic(topic);
    assertGroup(group);
    const { concurrency, ackDeadlineMs } = resolveSubscribeOptions(opts);
    const name = this.subscriptionName(topic, group);
    if (this.createIfMissing) await this.ensureSubscription(topic, name, ackDeadlineMs);
    this.assertOpen();
    const leaseSeconds = clamp(Math.ceil(ackDeadlineMs / 1000), this.client.isEmulator ? 1 : MIN_LEASE_S, MAX_LEASE_S);
    const lease = Duration.from({ seconds: leaseSeconds });
    const subscription = this.client.subscription(name, {
      // The library frees a flow-control slot only once the message's ack is flushed, so slots are
      // sized past the handler concurrency (which PubSubSubscription enforces itself); otherwise a
      // fast handler would wait on the ack batch timer for every message.
      flowControl: { maxMessages: concurrency + readAhead(concurrency), allowExcessMessages: false },
      // Acks (and receipt modacks) are batched; 10 ms instead of the library's 100 ms keeps slots and
      // leases turning over quickly, and at high rates batches fill up before the timer anyway.
      batching: { maxMilliseconds: 10 },
      minAckDeadline: lease,
      maxAckDeadline: lease,
    });
    const sub: PubSubSubscription<T> = new PubSubSubscription<T>({
      topic,
      group,
      subscription,
      handler,
      concurrency,
      logger: this.log,
      onClosed: () => this.subscriptions.delete(sub as unknown as PubSubSubscription<Topic>),
    });
    this.subscriptions.add(sub as unknown as PubSubSubscription<Topic>);
    this.log.info({ topic, group, subscription: name, concurrency, leaseSeconds }, 'bus subscribed');
    return sub;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing';
    await runCleanupSteps(
      [
        ['close subscriptions', () => Promise.allSettled([...this.subscriptions].map((s) => s.close()))],
        ['finish publishes', () => Promise.allSettled([...this.publishing])],
        ['flush publishers', () => Promise.allSettled([...this.topics.values()].map((t) => t.flush()))],
        ['close client', () => this.client.close()],
      ],
      (step, err) => this.log.error({ err, step }, 'bus cleanup step failed'),
    );
    this.log.debug('bus closed');
  }

  /** One Topic object per name: each holds its own publish batcher. */
  private topicHandle(name: string): PubSubTopic {
    let t = this.topics.get(name);
    if (!t) {
      t = this.client.topic(name);
      this.topics.set(name, t);
    }
    return t;
  }

  private ensureTopicOnce(name: string): Promise<void> {
    let ready = this.topicsReady.get(name);
    if (!ready) {
      ready = this.ensureTopic(name);
      this.topicsReady.set(name, ready);
      // A failure is not remembered: the next publish tries again.
      ready.catch(() => this.topicsReady.delete(name));
    }
    return ready;
  }

  /**
   * Looks before creating: where Terraform made the topic, the service account may hold publish rights
   * but not create rights, and a blind create would fail with PERMISSION_DENIED.
   */
  private async ensureTopic(name: string): Promise<void> {
    const topic = this.topicHandle(name);
    const [exists] = await topic.exists();
    if (exists) return;
    try {
      await topic.create();
      this.log.info({ topic: name }, 'bus topic created');
    } catch (err) {
      if (grpcCode(err) !== GRPC.ALREADY_EXISTS) throw err;
    }
  }

  private async ensureSubscription(topic: Topic, name: string, ackDeadlineMs: number): Promise<void> {
    const [exists] = await this.client.subscription(name).exists();
    if (exists) return;
    const topicName = this.topicName(topic);
    const deadName = `${name}-dead`;
    await this.ensureTopicOnce(topicName);
    await this.ensureTopicOnce(deadName);
    // Dead letters sent to a topic nobody subscribes to are dropped; this subscription keeps them.
    await this.createSubscription(deadName, deadName, {});
    await this.createSubscription(topicName, name, {
      ackDeadlineSeconds: clamp(Math.ceil(ackDeadlineMs / 1000), MIN_LEASE_S, MAX_LEASE_S),
      deadLetterPolicy: {
        deadLetterTopic: this.topicHandle(deadName).name,
        maxDeliveryAttempts: this.maxDeliveryAttempts,
      },
      retryPolicy: {
        minimumBackoff: protoDuration(this.retryBackoffMs.min),
        maximumBackoff: protoDuration(this.retryBackoffMs.max),
      },
    });
  }

  private async createSubscription(
    topicName: string,
    name: string,
    metadata: CreateSubscriptionOptions,
  ): Promise<void> {
    try {
      await this.topicHandle(topicName).createSubscription(name, metadata);
      this.log.info({ topic: topicName, subscription: name }, 'bus subscription created');
    } catch (err) {
      if (grpcCode(err) !== GRPC.ALREADY_EXISTS) throw err;
    }
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new KumoError('INTERNAL', 'the bus is closed', { retryable: false });
  }
}

function clamp(v: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, v));
}

function protoDuration(ms: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}
