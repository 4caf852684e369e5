import type { Message, Subscription as PubSubClientSubscription } from '@google-cloud/pubsub';
import type { Logger } from '../logger';
import type { BusHandler, BusMessage, Subscription, Topic, TopicData } from './bus';
import { runCleanupSteps } from './subscribe-options';

/** Attribute names kumo puts on every Pub/Sub message (Pub/Sub reserves `goog*`, not these). */
export const ID_ATTRIBUTE = 'kumo-id';
export const PUBLISHED_AT_ATTRIBUTE = 'kumo-published-at';

type State = 'running' | 'closing' | 'closed';

/**
 * One subscriber on a Pub/Sub subscription. The client library does the leasing: it opens the
 * StreamingPull streams, modacks each message on receipt and keeps extending it until it is acked or
 * nacked, and stops pulling at `flowControl.maxMessages` held messages. Those are more than the
 * handler concurrency (see PubSubBus.subscribe), so this class runs at most `concurrency` handlers and
 * queues the rest, leased, in arrival order.
 *
 * close(): queued messages and those that arrive after close begins are not handled and not nacked
 * one by one (a nack is redelivered at once, possibly to this same stream, and each round would spend
 * a delivery attempt towards the dead-letter limit); they stay leased until the handlers in flight are
 * done, then the library's own close nacks every message not yet acked, once, and flushes the acks.
 */
export class PubSubSubscription<T extends Topic> implements Subscription {
  private state: State = 'running';
  private readonly inFlight = new Set<Promise<void>>();
  private readonly queue: Message[] = [];
  private closing: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    private readonly cfg: {
      topic: T;
      group: string;
      subscription: PubSubClientSubscription;
      handler: BusHandler<T>;
      concurrency: number;
      logger: Logger;
      onClosed: () => void;
    },
  ) {
    this.log = cfg.logger.child({ topic: cfg.topic, group: cfg.group, subscription: cfg.subscription.name });
    cfg.subscription.on('message', (m: Message) => this.onMessage(m));
    // Without a listener the library's stream errors would be thrown as uncaught exceptions.
    cfg.subscription.on('error', (err: unknown) => this.log.error({ err }, 'bus subscription stream failed'));
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.state = 'closing';
    await runCleanupSteps(
      [
        ['drain handlers', () => Promise.allSettled([...this.inFlight])],
        ['close subscriber', () => this.cfg.subscription.close()],
        // The error listener stays: a late stream error with none would crash the process.
        ['remove message listener', () => this.cfg.subscription.removeAllListeners('message')],
      ],
      (step, err) => this.log.error({ err, step }, 'bus subscription cleanup step failed'),
    );
    this.state = 'closed';
    this.cfg.onClosed();
    this.log.debug('bus subscription closed');
  }

  private onMessage(message: Message): void {
    if (this.state !== 'running') return;
    this.queue.push(message);
    this.pump();
  }

  private pump(): void {
    while (this.state === 'running' && this.inFlight.size < this.cfg.concurrency && this.queue.length > 0) {
      this.start(this.queue.shift()!);
    }
  }

  private start(message: Message): void {
    const msg = this.toBusMessage(message);
    if (!msg) {
      // Never handleable: nacked until Pub/Sub moves it to the dead-letter topic after its max attempts.
      this.log.error({ messageId: message.id }, 'bus message unparseable; nacking it');
      message.nack();
      return;
    }
    const run = (async () => {
      try {
        await this.cfg.handler(msg);
        message.ack();
      } catch (err) {
        message.nack();
        this.log.warn(
          { err, id: msg.id, deliveryAttempt: msg.deliveryAttempt },
          'bus handler failed; message will be redelivered',
        );
      }
    })().finally(() => {
      this.inFlight.delete(run);
      this.pump();
    });
    this.inFlight.add(run);
  }

  private toBusMessage(message: Message): BusMessage<T> | undefined {
    const id = message.attributes[ID_ATTRIBUTE];
    if (!id) return undefined;
    let data: TopicData[T];
    try {
      data = JSON.parse(message.data.toString('utf8')) as TopicData[T];
    } catch {
      return undefined;
    }
    const at = Number(message.attributes[PUBLISHED_AT_ATTRIBUTE]);
    return {
      id,
      topic: this.cfg.topic,
      publishedAt: Number.isFinite(at) ? at : message.publishTime.getTime(),
      // Pub/Sub counts deliveries only on subscriptions with a dead-letter policy; 0 means "not known".
      deliveryAttempt: Math.max(1, message.deliveryAttempt || 1),
      data,
    };
  }
}
