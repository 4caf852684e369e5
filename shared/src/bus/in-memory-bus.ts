import { randomUUID } from 'node:crypto';
import { wallClock, type Clock } from '../clock';
import { KumoError } from '../errors';
import type { Bus, BusHandler, BusMessage, Subscription, Topic, TopicData } from './bus';
import { assertGroup, assertTopic } from './subscribe-options';

/**
 * A bus inside one process, for simulations: `publish` delivers to one subscriber of each group and
 * resolves once every handler has run, so a simulated hour unfolds in the same order on every run.
 * Not durable and not for services: what it holds ends with the process.
 */
export class InMemoryBus implements Bus {
  readonly kind = 'redis' as const;
  private readonly groups = new Map<Topic, Map<string, BusHandler<Topic>[]>>();
  private readonly turn = new Map<string, number>();
  private closed = false;

  constructor(private readonly opts: { clock?: Clock; newId?: () => string; maxDeliveries?: number } = {}) {}

  async publish<T extends Topic>(topic: T, data: TopicData[T], o?: { id?: string }): Promise<string> {
    if (this.closed) throw new KumoError('INTERNAL', 'bus is closed', { retryable: false });
    assertTopic(topic);
    const id = o?.id ?? (this.opts.newId ?? randomUUID)();
    const publishedAt = (this.opts.clock ?? wallClock).now();
    for (const [group, handlers] of this.groups.get(topic) ?? []) {
      if (handlers.length === 0) continue;
      const key = `${topic}/${group}`;
      const n = this.turn.get(key) ?? 0;
      this.turn.set(key, n + 1);
      const handler = handlers[n % handlers.length]!;
      // A failing handler is retried at once, as a redelivery would, up to a limit.
      for (let attempt = 1; ; attempt++) {
        const msg: BusMessage<T> = { id, topic, publishedAt, deliveryAttempt: attempt, data };
        try {
          await (handler as BusHandler<T>)(msg);
          break;
        } catch (err) {
          if (attempt >= (this.opts.maxDeliveries ?? 5)) throw err;
        }
      }
    }
    return id;
  }

  async subscribe<T extends Topic>(topic: T, group: string, handler: BusHandler<T>): Promise<Subscription> {
    assertTopic(topic);
    assertGroup(group);
    let byGroup = this.groups.get(topic);
    if (!byGroup) this.groups.set(topic, (byGroup = new Map()));
    let list = byGroup.get(group);
    if (!list) byGroup.set(group, (list = []));
    const h = handler as BusHandler<Topic>;
    list.push(h);
    return {
      close: async () => {
        const i = list.indexOf(h);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.groups.clear();
  }
}
