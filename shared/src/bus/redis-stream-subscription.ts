import { wallClock } from '../clock';
import type { Logger } from '../logger';
import type { BusMessage, Subscription, Topic } from './bus';
import { quit, replyCode } from '../store/redis';
import { AckBatcher } from './ack-batcher';
import { deadLetter } from './dead-letter';
import type { RedisStreamSubscriptionConfig } from './redis-stream-subscription-config';
import { releaseUnhandled, removeConsumerIfIdle, renewLeases } from './stream-pending';
import { toMessage, type ClaimReply, type ReadGroupReply } from './stream-entry';
import { runCleanupSteps } from './subscribe-options';

export type { ClaimIdleScript, RedisStreamSubscriptionConfig } from './redis-stream-subscription-config';

type State = 'running' | 'closing' | 'closed';

interface Delivery<T extends Topic> {
  entryId: string;
  msg: BusMessage<T>;
}

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
  private readonly acks: AckBatcher;
  private roomWaiter: (() => void) | undefined;
  private renewing = false;
  private readonly stopReading = new AbortController();
  private readonly leaseTimer: NodeJS.Timeout;
  private readonly readLoop: Promise<void>;
  private closing: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly cfg: RedisStreamSubscriptionConfig<T>) {
    this.log = cfg.logger.child({ topic: cfg.topic, group: cfg.group, consumer: cfg.consumer });
    // Acked entries leave `held`: their leases need no renewal once Redis has the ack (or refused it).
    this.acks = new AckBatcher({
      commands: cfg.commands,
      key: cfg.key,
      group: cfg.group,
      trimAcked: cfg.trimAcked,
      log: this.log,
      onSettled: (ids) => ids.forEach((id) => this.held.delete(id)),
    });
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
        ['flush acks', () => this.acks.flush()],
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
          await this.cfg
            .ensureGroup()
            .catch((e: unknown) => this.log.warn({ err: e }, 'bus consumer group create failed'));
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
      'GROUP',
      group,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      key,
      '>',
    )) as ReadGroupReply;
    const entries = reply?.[0]?.[1] ?? [];
    const accepted: Delivery<T>[] = [];
    for (const [entryId, fields] of entries) {
      const msg = toMessage(this.cfg.topic, fields, 1);
      if (msg) accepted.push({ entryId, msg });
      else await deadLetter(this.cfg, this.log, entryId, fields, 1, 'unparseable');
    }
    this.accept(accepted);
  }

  private async claimIdle(cursor: string, count: number): Promise<string> {
    const { key, group, consumer, ackDeadlineMs, maxDeliveryAttempts } = this.cfg;
    const [next, entries, counts, deleted] = (await this.cfg.claimIdle(
      key,
      group,
      consumer,
      ackDeadlineMs,
      cursor,
      Math.max(1, count),
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
      const msg = toMessage(this.cfg.topic, fields, attempt);
      if (!msg) await deadLetter(this.cfg, this.log, entryId, fields, attempt, 'unparseable');
      else if (attempt > maxDeliveryAttempts)
        await deadLetter(this.cfg, this.log, entryId, fields, attempt - 1, 'max-delivery-attempts');
      else accepted.push({ entryId, msg });
    }
    if (accepted.length > 0) this.log.debug({ count: accepted.length }, 'bus messages redelivered');
    this.accept(accepted);
    return next;
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
        this.acks.add(d.entryId);
      } catch (err) {
        // Left pending and no longer renewed: XAUTOCLAIM hands it out again after the ack deadline.
        this.held.delete(d.entryId);
        this.log.warn(
          { err, id: d.msg.id, entryId: d.entryId, deliveryAttempt: d.msg.deliveryAttempt },
          'bus handler failed; message will be redelivered',
        );
      }
    })().finally(() => {
      this.inFlight.delete(d.entryId);
      this.pump();
    });
    this.inFlight.set(d.entryId, run);
  }

  private async renewLeases(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    try {
      await renewLeases(this.cfg.commands, this.cfg, [...this.held]);
    } catch (err) {
      this.log.warn({ err, held: this.held.size }, 'bus lease renewal failed');
    } finally {
      this.renewing = false;
    }
  }

  /** Read-ahead entries that never reached a handler go back to the group at once (see releaseUnhandled). */
  private async releaseBuffered(): Promise<void> {
    const released = this.buffer.splice(0);
    await releaseUnhandled(
      this.cfg.commands,
      this.cfg,
      released.map((d) => ({ entryId: d.entryId, deliveryAttempt: d.msg.deliveryAttempt })),
    );
    for (const d of released) this.held.delete(d.entryId);
  }

  private removeConsumerIfIdle(): Promise<void> {
    return removeConsumerIfIdle(this.cfg.commands, this.cfg);
  }
}
