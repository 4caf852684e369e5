import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis, type RedisOptions } from 'ioredis';
import { wallClock, type Clock } from '../clock';
import { KumoError } from '../errors';
import { newMessageId } from '../ids';
import { createLogger, type Logger } from '../logger';
import { defineScript, reply } from '../store/lua-script';
import { createRedis, logConnectionErrors, type RedisRole } from '../store/redis';
import type { Bus, BusHandler, SubscribeOptions, Subscription, Topic, TopicData } from './bus';
import { quit, replyCode } from '../store/redis';
import { RedisStreamSubscription, type ClaimIdleScript } from './redis-stream-subscription';
import {
  DEFAULT_MAX_DELIVERY_ATTEMPTS,
  assertGroup,
  assertTopic,
  readAhead,
  resolveSubscribeOptions,
  runCleanupSteps,
} from './subscribe-options';

export interface RedisStreamsBusOptions {
  /** A `redis://` URL, or ioredis options; every connection the bus opens is made from it. */
  redis: string | RedisOptions;
  /** Key prefix: topic streams are `${prefix}:bus:${topic}`. Default `'kumo'`. */
  prefix?: string;
  /** Default: a `kumo` root logger. The bus logs under `{component: 'bus'}`. */
  logger?: Logger;
  /**
   * Approximate cap on each topic stream (XADD MAXLEN ~). Default 100_000. Trimming does not know
   * about consumer groups: a group that falls further behind than this loses the oldest unread
   * messages (logged as an error when pending ones go). Size it above the worst expected backlog.
   */
  maxLenApprox?: number;
  /** Stamps `publishedAt`. Default the wall clock. Transport timing (blocks, leases) is always wall time. */
  clock?: Clock;
  /** Most entries fetched by one read; the read-ahead per subscriber is up to this beyond its concurrency. Default 100. */
  readBatch?: number;
  /** How long one XREADGROUP blocks; close() waits about this long for a reader. Default 1000. */
  blockMs?: number;
  /** Deliveries of a message before it is moved to `${prefix}:bus:${topic}:dead:${group}`. Default 20. */
  maxDeliveryAttempts?: number;
}

/** The bus's scripts (bus/lua/), through the one loader (store/lua-script.ts). */
const busScripts = {
  claimIdle: defineScript(new URL('./lua/claimIdle-1.lua', import.meta.url), ['stream'], reply.array),
  trimAcked: defineScript(new URL('./lua/trimAcked-1.lua', import.meta.url), ['stream'], reply.integer),
};
/** Dead-letter streams are for people to look at; a cap keeps a poison flood from filling memory. */
const DEAD_LETTER_MAX_LEN = 10_000;

/**
 * The bus on Redis Streams, the local default. One stream per topic; a bus group is a consumer group,
 * so each group sees every message and its subscribers share them. Messages are stored as fields
 * `id`, `at`, `data` (JSON).
 *
 * Connections per role: one command connection for publishes, acks and lease renewals,
 * and one blocking connection per subscription, so a blocked XREADGROUP never delays a publish or ack.
 *
 * A new group starts at the beginning of the retained stream (`0`), not at `$`: a publisher that starts
 * before its consumer ever subscribed (a fresh Redis, services started in any order) must not lose
 * messages. A group added later replays what the stream still holds; handlers are idempotent by id.
 */
export class RedisStreamsBus implements Bus {
  readonly kind = 'redis' as const;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly maxLen: number;
  private readonly readBatch: number;
  private readonly blockMs: number;
  private readonly maxDeliveryAttempts: number;
  private readonly commands: Redis;
  private readonly claimIdle: ClaimIdleScript;
  private readonly subscriptions = new Set<RedisStreamSubscription<Topic>>();
  private readonly publishing = new Set<Promise<unknown>>();
  private state: 'open' | 'closing' = 'open';
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: RedisStreamsBusOptions) {
    this.prefix = opts.prefix ?? 'kumo';
    this.log = (opts.logger ?? createLogger({ name: 'kumo' })).child({ component: 'bus', bus: 'redis' });
    this.clock = opts.clock ?? wallClock;
    this.maxLen = opts.maxLenApprox ?? 100_000;
    this.readBatch = opts.readBatch ?? 100;
    this.blockMs = opts.blockMs ?? 1000;
    this.maxDeliveryAttempts = opts.maxDeliveryAttempts ?? DEFAULT_MAX_DELIVERY_ATTEMPTS;
    if (!(this.maxLen >= 1) || !(this.readBatch >= 1) || !(this.blockMs >= 1) || !(this.maxDeliveryAttempts >= 1)) {
      throw new KumoError(
        'CONFIG_INVALID',
        'RedisStreamsBus: maxLenApprox, readBatch, blockMs and maxDeliveryAttempts must be >= 1',
      );
    }
    this.commands = this.connect('command', 'bus');
    this.claimIdle = (key, ...args) => busScripts.claimIdle.run(this.commands, { stream: String(key) }, args);
    this.trimAcked = (key) => busScripts.trimAcked.run(this.commands, { stream: key }, []);
  }
  private readonly trimAcked: (key: string) => Promise<number>;

  /** The stream a topic lives on. */
  streamKey(topic: Topic): string {
    return `${this.prefix}:bus:${topic}`;
  }

  /** Where a group's poison messages are parked. */
  deadLetterKey(topic: Topic, group: string): string {
    return `${this.prefix}:bus:${topic}:dead:${group}`;
  }

  async publish<T extends Topic>(topic: T, data: TopicData[T], opts?: { id?: string }): Promise<string> {
    this.assertOpen();
    assertTopic(topic);
    const id = opts?.id ?? newMessageId();
    const added = this.commands.xadd(
      this.streamKey(topic),
      'MAXLEN',
      '~',
      this.maxLen,
      '*',
      'id',
      id,
      'at',
      this.clock.now(),
      'data',
      JSON.stringify(data),
    );
    this.publishing.add(added);
    try {
      await added;
      return id;
    } catch (err) {
      throw new KumoError('INTERNAL', `bus publish to '${topic}' failed`, {
        cause: err,
        retryable: true,
        details: { topic, id },
      });
    } finally {
      this.publishing.delete(added);
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
    const key = this.streamKey(topic);
    const ensureGroup = (): Promise<void> => this.ensureGroup(key, group);
    await ensureGroup();
    this.assertOpen();
    const consumer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    const sub = new RedisStreamSubscription<T>({
      topic,
      key,
      deadKey: this.deadLetterKey(topic, group),
      group,
      consumer,
      handler,
      concurrency,
      ackDeadlineMs,
      readBatch: readAhead(concurrency, this.readBatch),
      blockMs: this.blockMs,
      maxDeliveryAttempts: this.maxDeliveryAttempts,
      deadLetterMaxLen: DEAD_LETTER_MAX_LEN,
      commands: this.commands,
      blocking: this.connect('blocking', `bus-${topic}-${group}`),
      claimIdle: this.claimIdle,
      trimAcked: () => this.trimAcked(key),
      ensureGroup,
      logger: this.log,
      onClosed: () => this.subscriptions.delete(sub as unknown as RedisStreamSubscription<Topic>),
    });
    this.subscriptions.add(sub as unknown as RedisStreamSubscription<Topic>);
    this.log.info({ topic, group, consumer, concurrency, ackDeadlineMs }, 'bus subscribed');
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
        ['quit connection', () => quit(this.commands)],
      ],
      (step, err) => this.log.error({ err, step }, 'bus cleanup step failed'),
    );
    this.log.debug('bus closed');
  }

  /** Creates the group (and the stream) if missing; BUSYGROUP means another process already did. */
  private async ensureGroup(key: string, group: string): Promise<void> {
    try {
      await this.commands.xgroup('CREATE', key, group, '0', 'MKSTREAM');
    } catch (err) {
      if (replyCode(err) !== 'BUSYGROUP') throw err;
    }
  }

  private connect(role: RedisRole, name: string): Redis {
    const { redis } = this.opts;
    if (typeof redis === 'string') return createRedis(redis, role, name, { logger: this.log });
    const conn = new Redis({
      ...redis,
      connectionName: `kumo-${name}-${role}`,
      maxRetriesPerRequest: role === 'command' ? 20 : null,
    });
    logConnectionErrors(conn, this.log, { role, connection: `kumo-${name}-${role}` });
    return conn;
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw new KumoError('INTERNAL', 'the bus is closed', { retryable: false });
  }
}
