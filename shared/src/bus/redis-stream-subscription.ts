import type { Redis } from 'ioredis';
import { wallClock } from '../clock';
import type { Logger } from '../logger';
import type { BusHandler, BusMessage, Subscription, Topic, TopicData } from './bus';
import { runCleanupSteps } from './subscribe-options';

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

type State = 'running' | 'closing' | 'closed';

interface Delivery<T extends Topic> {
  entryId: string;
  msg: BusMessage<T>;
}

type StreamEntry = [id: string, fields: string[]];
type ReadGroupReply = [key: string, entries: StreamEntry[]][] | null;
type ClaimReply = [cursor: string, entries: StreamEntry[], counts: number[], deleted: string[]];

/**
 * Entries handed back at close() without being handled get this idle time, so the next XAUTOCLAIM of
 * any consumer takes them at once instead of after a full ack deadline. Redis resets an idle time
 * longer than its own clock's epoch to 0, so this is "very long", not "infinite".
 */
const RELEASED_IDLE_MS = 10 * 365 * 24 * 3600 * 1000;
const TRIM_EVERY_MS = 1000;

/** XCLAIM / XACK argument lists are chunked so one command never carries an unbounded id list. */
const IDS_PER_COMMAND = 1000;
const MAX_READ_BACKOFF_MS = 5000;

/**
 * One subscriber of one consumer group on one Redis stream.
 *
 * Lifecycle: `running` (reading, handling) -> `closing` (no new reads; handlers in flight finish and
 * are acked; read-ahead entries are handed back) -> `closed`.
 *
 * Delivery: new entries come from XREADGROUP on this subscription's own blocking connection; entries
 * another consumer left unacked past the ack deadline (it died, or its handler threw) are taken over
 * with XAUTOCLAIM on the same connection, between reads. While an entry is held here, buffered or in a
 * handler, its lease is renewed (XCLAIM JUSTID resets its idle time), so a slow handler is not raced
 * by a second consumer; only a consumer that stops renewing (dead, frozen, or the handler threw) lets
 * its entries go after `ackDeadlineMs`, as Pub/Sub does with its lease extension.
 */
export class RedisStreamSubscription<T extends Topic> implements Subscription {
  private state: State = 'running';
  private readonly buffer: Delivery<T>[] = [];
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Entry ids buffered or in a handler, plus acked ones until their XACK returns: the leases we renew. */
  private readonly held = new Set<string>();
  private acks: string[] = [];
  private ackScheduled = false;
  private readonly pendingAcks = new Set<Promise<void>>();
  private roomWaiter: (() => void) | undefined;
  private renewing = false;
  private readonly stopReading = new AbortController();
  private readonly leaseTimer: NodeJS.Timeout;
  private readonly readLoop: Promise<void>;
  private closing: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly cfg: RedisStreamSubscriptionConfig<T>) {
    this.log = cfg.logger.child({ topic: cfg.topic, group: cfg.group, consumer: cfg.consumer });
    // Renew three times per deadline, so one late timer tick never lets a lease lapse.
    this.leaseTimer = setInterval(() => void this.renewLeases(), Math.max(50, Math.floor(cfg.ackDeadlineMs / 3)));
    this.leaseTimer.unref();
    this.readLoop = this.run();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing';
    this.stopReading.abort();
    this.signalRoom();
    await runCleanupSteps(
      [
        ['stop reading', () => this.stopReadLoop()],
        ['hand back read-ahead', () => this.releaseBuffered()],
        ['drain handlers', () => Promise.allSettled([...this.inFlight.values()])],
        ['flush acks', () => this.flushAcks()],
        ['stop leases', () => clearInterval(this.leaseTimer)],
        ['remove consumer', () => this.removeConsumerIfIdle()],
        ['quit connection', () => quit(this.cfg.blocking)],
      ],
      (step, err) => this.log.error({ err, step }, 'bus subscription cleanup step failed'),
    );
    this.state = 'closed';
    this.cfg.onClosed();
    this.log.debug('bus subscription closed');
  }

  /** The reader returns within one BLOCK; if Redis is unreachable it may hang in a retry, so cut it. */
  private async stopReadLoop(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      this.readLoop.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.cfg.blockMs + 2000))),
    ]);
    clearTimeout(timer);
    if (!stopped) {
      this.log.warn('bus reader did not stop in time; disconnecting it');
      this.cfg.blocking.disconnect();
      await this.readLoop;
    }
  }

  private async run(): Promise<void> {
    let cursor = '0-0';
    let nextClaimAt = 0;
    let failures = 0;
    // Idle entries are looked for a few times per deadline; sooner would only rescan the same PEL.
    const claimEveryMs = Math.max(100, Math.floor(this.cfg.ackDeadlineMs / 4));
    while (this.state === 'running') {
      try {
        await this.waitForRoom();
        if (this.state !== 'running') break;
        if (Date.now() >= nextClaimAt) {
          cursor = await this.claimIdle(cursor, this.room());
          // A cursor other than 0-0 means the scan of the pending list is not done: go on next round.
          nextClaimAt = cursor === '0-0' ? Date.now() + claimEveryMs : 0;
          if (this.state !== 'running' || this.room() === 0) continue;
        }
        await this.readNew(this.room());
        failures = 0;
      } catch (err) {
        if (this.state !== 'running') break;
        failures++;
        if (replyCode(err) === 'NOGROUP') {
          this.log.warn({ err }, 'bus consumer group missing; creating it again');
          await this.cfg.ensureGroup().catch((e: unknown) => this.log.warn({ err: e }, 'bus consumer group create failed'));
        } else {
          this.log.warn({ err, failures }, 'bus read failed; retrying');
        }
        // Wall time, not the bus's clock: this paces calls to a real Redis, whatever time the caller simulates.
        await wallClock.sleep(Math.min(50 * 2 ** failures, MAX_READ_BACKOFF_MS), this.stopReading.signal);
      }
    }
  }

  private room(): number {
    return Math.max(0, this.cfg.readBatch - this.buffer.length);
  }

  /** Reads again once half the read-ahead is used, so reads stay large (few round trips). */
  private async waitForRoom(): Promise<void> {
    while (this.state === 'running' && this.buffer.length > this.cfg.readBatch / 2) {
      await new Promise<void>((resolve) => (this.roomWaiter = resolve));
    }
  }

  private signalRoom(): void {
    const waiter = this.roomWaiter;
    this.roomWaiter = undefined;
    waiter?.();
  }

  private async readNew(count: number): Promise<void> {
    const { key, group, consumer, blockMs } = this.cfg;
    const reply = (await this.cfg.blocking.xreadgroup(
      'GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, '>',
    )) as ReadGroupReply;
    const entries = reply?.[0]?.[1] ?? [];
    const accepted: Delivery<T>[] = [];
    for (const [entryId, fields] of entries) {
      const msg = this.toMessage(fields, 1);
      if (msg) accepted.push({ entryId, msg });
      else await this.deadLetter(entryId, fields, 1, 'unparseable');
    }
    this.accept(accepted);
  }

  private async claimIdle(cursor: string, count: number): Promise<string> {
    const { key, group, consumer, ackDeadlineMs, maxDeliveryAttempts } = this.cfg;
    const [next, entries, counts, deleted] = (await this.cfg.claimIdle(
      key, group, consumer, ackDeadlineMs, cursor, Math.max(1, count),
    )) as ClaimReply;
    if (deleted.length > 0) {
      // The stream was trimmed (maxLenApprox) past entries nobody had acked: they are gone for good.
      this.log.error({ lost: deleted.length, firstId: deleted[0] }, 'bus messages trimmed before they were acked');
    }
    const accepted: Delivery<T>[] = [];
    for (let i = 0; i < entries.length; i++) {
      const [entryId, fields] = entries[i]!;
      const attempt = Number(counts[i] ?? 2);
      if (this.held.has(entryId)) continue; // our own lease lapsed; the entry is still being handled here
      const msg = this.toMessage(fields, attempt);
      if (!msg) await this.deadLetter(entryId, fields, attempt, 'unparseable');
      else if (attempt > maxDeliveryAttempts) await this.deadLetter(entryId, fields, attempt - 1, 'max-delivery-attempts');
      else accepted.push({ entryId, msg });
    }
    if (accepted.length > 0) this.log.debug({ count: accepted.length }, 'bus messages redelivered');
    this.accept(accepted);
    return next;
  }

  private toMessage(fields: string[], deliveryAttempt: number): BusMessage<T> | undefined {
    let id: string | undefined;
    let at: string | undefined;
    let data: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const value = fields[i + 1];
      if (fields[i] === 'id') id = value;
      else if (fields[i] === 'at') at = value;
      else if (fields[i] === 'data') data = value;
    }
    if (id === undefined || data === undefined) return undefined;
    try {
      return { id, topic: this.cfg.topic, publishedAt: Number(at ?? 0), deliveryAttempt, data: JSON.parse(data) as TopicData[T] };
    } catch {
      return undefined;
    }
  }

  /**
   * Parks a message no handler will ever take (unparseable, or failed `maxDeliveryAttempts` times) on
   * the group's dead-letter stream, and acks it, in one transaction: it is never both lost and acked.
   */
  private async deadLetter(entryId: string, fields: string[], attempts: number, reason: string): Promise<void> {
    const { key, deadKey, group, deadLetterMaxLen } = this.cfg;
    const results = await this.cfg.commands
      .multi()
      .xadd(deadKey, 'MAXLEN', '~', deadLetterMaxLen, '*', ...fields, 'kumo-entry', entryId, 'kumo-attempts', attempts, 'kumo-reason', reason)
      .xack(key, group, entryId)
      .exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('dead-letter transaction aborted');
    this.log.warn({ entryId, attempts, reason, deadKey }, 'bus message dead-lettered');
  }

  private accept(deliveries: Delivery<T>[]): void {
    for (const d of deliveries) {
      this.held.add(d.entryId);
      this.buffer.push(d);
    }
    this.pump();
  }

  private pump(): void {
    while (this.state === 'running' && this.inFlight.size < this.cfg.concurrency && this.buffer.length > 0) {
      this.start(this.buffer.shift()!);
    }
    if (this.buffer.length <= this.cfg.readBatch / 2) this.signalRoom();
  }

  private start(d: Delivery<T>): void {
    const run = (async () => {
      try {
        await this.cfg.handler(d.msg);
        this.queueAck(d.entryId);
      } catch (err) {
        // Left pending and no longer renewed: XAUTOCLAIM hands it out again after the ack deadline.
        this.held.delete(d.entryId);
        this.log.warn({ err, id: d.msg.id, entryId: d.entryId, deliveryAttempt: d.msg.deliveryAttempt }, 'bus handler failed; message will be redelivered');
      }
    })().finally(() => {
      this.inFlight.delete(d.entryId);
      this.pump();
    });
    this.inFlight.set(d.entryId, run);
  }

  /** Acks of one event-loop turn go out as one XACK. */
  private queueAck(entryId: string): void {
    this.acks.push(entryId);
    if (this.acks.length >= IDS_PER_COMMAND) {
      void this.flushAcks();
    } else if (!this.ackScheduled) {
      this.ackScheduled = true;
      setImmediate(() => {
        this.ackScheduled = false;
        void this.flushAcks();
      });
    }
  }

  private async flushAcks(): Promise<void> {
    const ids = this.acks;
    this.acks = [];
    if (ids.length > 0) {
      const done = this.cfg.commands
        .xack(this.cfg.key, this.cfg.group, ...ids)
        .then(
          () => undefined,
          // Still pending: redelivered after the deadline, and the handler is idempotent by id.
          (err: unknown) => this.log.warn({ err, count: ids.length }, 'bus ack failed; messages will be redelivered'),
        )
        .finally(() => {
          for (const id of ids) this.held.delete(id);
          this.pendingAcks.delete(done);
        });
      this.pendingAcks.add(done);
      this.maybeTrim();
    }
    await Promise.all([...this.pendingAcks]);
  }

  /** At most once a second, after acks: the stream keeps what is in flight, not every message sent. */
  private maybeTrim(): void {
    const now = Date.now();
    if (now - this.lastTrim < TRIM_EVERY_MS) return;
    this.lastTrim = now;
    this.cfg.trimAcked().catch((err: unknown) => this.log.warn({ err }, 'bus stream trim failed'));
  }
  private lastTrim = 0;

  /**
   * Resets the idle time of every entry held here. XCLAIM with min-idle 0 would also take back an entry
   * another consumer claimed after our lease lapsed (event loop frozen past the deadline); both then
   * handle it, which at-least-once delivery and idempotent handlers allow.
   */
  private async renewLeases(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    try {
      const { key, group, consumer } = this.cfg;
      for (const ids of chunks([...this.held], IDS_PER_COMMAND)) {
        await this.cfg.commands.xclaim(key, group, consumer, 0, ...ids, 'JUSTID');
      }
    } catch (err) {
      this.log.warn({ err, held: this.held.size }, 'bus lease renewal failed');
    } finally {
      this.renewing = false;
    }
  }

  /**
   * Read-ahead entries that never reached a handler are made idle at once, with their delivery count
   * put back, so another consumer takes them now and their next delivery counts as this one did.
   */
  private async releaseBuffered(): Promise<void> {
    const released = this.buffer.splice(0);
    const byAttempt = new Map<number, string[]>();
    for (const d of released) {
      const ids = byAttempt.get(d.msg.deliveryAttempt) ?? [];
      ids.push(d.entryId);
      byAttempt.set(d.msg.deliveryAttempt, ids);
    }
    const { key, group, consumer } = this.cfg;
    for (const [attempt, all] of byAttempt) {
      for (const ids of chunks(all, IDS_PER_COMMAND)) {
        await this.cfg.commands.xclaim(key, group, consumer, 0, ...ids, 'IDLE', RELEASED_IDLE_MS, 'RETRYCOUNT', attempt - 1, 'JUSTID');
      }
    }
    for (const d of released) this.held.delete(d.entryId);
  }

  /**
   * A consumer is deleted only when it owns no pending entry: DELCONSUMER would drop its entries from
   * the pending list, and nobody could ever claim them again. One that still owns entries stays listed
   * until a later pass (they are claimed by others after the deadline).
   */
  private async removeConsumerIfIdle(): Promise<void> {
    const { key, group, consumer } = this.cfg;
    const pending = (await this.cfg.commands.xpending(key, group, '-', '+', 1, consumer)) as unknown[];
    if (pending.length === 0) await this.cfg.commands.xgroup('DELCONSUMER', key, group, consumer);
  }
}

/** Redis error replies start with their code (`BUSYGROUP ...`, `NOGROUP ...`): the protocol's error code. */
export function replyCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const match = /^([A-Z]+) /.exec(err.message);
  return match?.[1];
}

export async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

function chunks<V>(items: V[], size: number): V[][] {
  const out: V[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
