import { Gauge, type Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import type { Keys, Topic } from '@kumo/shared';

/**
 * Who reads each topic: the consumer groups of the Redis Streams bus (and the Pub/Sub subscriptions of
 * the same names). Kept here in one list because the API runs none of them; a new group must be added.
 */
export const BUS_GROUPS: readonly { topic: Topic; group: string }[] = [
  { topic: 'progress', group: 'ingester' },
  { topic: 'fleet', group: 'scheduler' },
  { topic: 'provision', group: 'provisioner' },
];

/**
 * Bus lag on the Redis Streams bus: for each group, how old its oldest unacknowledged message is (one
 * delivered and not acked, or not yet delivered) and how many there are. Streams are
 * `${prefix}:bus:${topic}` (RedisStreamsBus.streamKey). With the Pub/Sub bus there are no streams and
 * these series are absent: Cloud Monitoring's subscription/oldest_unacked_message_age is the same number.
 */
export class BusMetrics {
  private readonly age: Gauge;
  private readonly unacked: Gauge;
  private readonly dead: Gauge;

  constructor(
    registry: Registry,
    private readonly deps: { redis: Redis; keys: Keys },
  ) {
    const registers = [registry];
    const labelNames = ['topic', 'group'];
    this.age = new Gauge({
      name: 'kumo_bus_oldest_unacked_age_seconds',
      help: 'Age of the oldest message a bus group has not acknowledged (0 when none)',
      labelNames,
      registers,
    });
    this.unacked = new Gauge({
      name: 'kumo_bus_unacked_messages',
      help: 'Messages a bus group has not acknowledged: delivered and pending, or not yet delivered',
      labelNames,
      registers,
    });
    this.dead = new Gauge({
      name: 'kumo_bus_dead_letter_messages',
      help: 'Messages parked in a group’s dead-letter stream after too many deliveries',
      labelNames,
      registers,
    });
  }

  async refresh(): Promise<void> {
    const { redis } = this.deps;
    // The stream ids carry Redis's own clock: compare them with Redis's time, not this host's.
    const [sec, usec] = await redis.time();
    const nowMs = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const rows = await Promise.all(BUS_GROUPS.map((g) => this.read(g.topic, g.group, nowMs)));
    for (const m of [this.age, this.unacked, this.dead]) m.reset();
    for (const r of rows) {
      if (!r) continue;
      const labels = { topic: r.topic, group: r.group };
      this.age.set(labels, r.ageSeconds);
      this.unacked.set(labels, r.unacked);
      this.dead.set(labels, r.dead);
    }
  }

  private async read(
    topic: Topic,
    group: string,
    nowMs: number,
  ): Promise<{ topic: Topic; group: string; ageSeconds: number; unacked: number; dead: number } | undefined> {
    const { redis, keys } = this.deps;
    const stream = `${keys.prefix}:bus:${topic}`;
    let info: Record<string, unknown> | undefined;
    try {
      const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
      info = groups.map(pairs).find((g) => g.name === group);
    } catch {
      return undefined; // no such stream: the Pub/Sub bus, or nothing published yet
    }
    if (!info) return undefined;
    const lastDelivered = String(info['last-delivered-id'] ?? '0-0');
    const [pending, next, dead] = await Promise.all([
      redis.xpending(stream, group) as Promise<[number, string | null, string | null, unknown]>,
      redis.xrange(stream, `(${lastDelivered}`, '+', 'COUNT', 1),
      redis.xlen(`${stream}:dead:${group}`),
    ]);
    const oldestIds = [pending[1], next[0]?.[0]].filter((id): id is string => typeof id === 'string');
    const oldestMs = Math.min(...oldestIds.map((id) => Number(id.split('-')[0])));
    // Redis 7 reports the undelivered count as `lag`; it is nil when it cannot know (after XDEL): then 0.
    const lag = typeof info.lag === 'number' ? info.lag : 0;
    return {
      topic,
      group,
      ageSeconds: oldestIds.length === 0 ? 0 : Math.max(0, (nowMs - oldestMs) / 1000),
      unacked: Number(pending[0]) + lag,
      dead,
    };
  }
}

/** XINFO's flat [name, value, name, value, ...] reply as an object. */
function pairs(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
