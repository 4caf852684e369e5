import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BusMetrics } from '@kumo/api';
import { Keys } from '@kumo/shared';
import { redisForSuite, testPrefix } from '../support/prefix';
import { one, parseProm } from './prom-text';

describe('bus lag from the Redis Streams bus', () => {
  const prefix = testPrefix('lag');
  const redis = redisForSuite(prefix);

  it('is the age of the oldest message not acked (delivered or not), with the count of such messages', async () => {
    const stream = `${prefix}:bus:progress`;
    const [sec] = await redis.time();
    const now = Number(sec) * 1000;
    // Ids carry their time: a message from 90 s ago, one from 60 s ago, one now.
    await redis.xadd(stream, `${now - 90_000}-0`, 'data', 'a');
    await redis.xadd(stream, `${now - 60_000}-0`, 'data', 'b');
    await redis.xadd(stream, '*', 'data', 'c');
    await redis.xgroup('CREATE', stream, 'ingester', '0');
    await redis.xgroup('CREATE', `${prefix}:bus:fleet`, 'scheduler', '$', 'MKSTREAM');
    const registry = new Registry();
    const bus = new BusMetrics(registry, { redis, keys: new Keys(prefix) });
    const read = async () => {
      await bus.refresh();
      return parseProm(await registry.metrics());
    };

    let s = await read(); // none delivered yet: the oldest undelivered counts
    expect(
      one(s, 'kumo_bus_oldest_unacked_age_seconds', { topic: 'progress', group: 'ingester' }),
    ).toBeGreaterThanOrEqual(90);
    expect(one(s, 'kumo_bus_unacked_messages', { topic: 'progress', group: 'ingester' })).toBe(3);
    // The fleet group is caught up; the provision stream does not exist (as with the Pub/Sub bus): no series.
    expect(one(s, 'kumo_bus_oldest_unacked_age_seconds', { topic: 'fleet', group: 'scheduler' })).toBe(0);
    expect(s.filter((x) => x.labels.topic === 'provision')).toEqual([]);

    const got = (await redis.xreadgroup('GROUP', 'ingester', 'c1', 'COUNT', 2, 'STREAMS', stream, '>')) as [
      string,
      [string, string[]][],
    ][];
    const [first, second] = got[0]![1].map(([id]) => id);
    await redis.xack(stream, 'ingester', first!);
    s = await read(); // the 60 s one is delivered and pending, the newest not delivered
    const age = one(s, 'kumo_bus_oldest_unacked_age_seconds', { topic: 'progress', group: 'ingester' });
    expect(age).toBeGreaterThanOrEqual(60);
    expect(age).toBeLessThan(90);
    expect(one(s, 'kumo_bus_unacked_messages', { topic: 'progress', group: 'ingester' })).toBe(2);

    await redis.xack(stream, 'ingester', second!);
    s = await read();
    expect(one(s, 'kumo_bus_oldest_unacked_age_seconds', { topic: 'progress', group: 'ingester' })).toBeLessThan(60);
    expect(one(s, 'kumo_bus_unacked_messages', { topic: 'progress', group: 'ingester' })).toBe(1);
  });
});
