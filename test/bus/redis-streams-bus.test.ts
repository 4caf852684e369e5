import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { RedisStreamsBus, type BusMessage, type RedisStreamsBusOptions } from '@kumo/shared';
import { testPrefix } from '../support/prefix';
import { busContract, fleetEvent, range, recorder, sleep, waitFor } from './bus-contract';

const logger = pino({ level: 'silent' });
let admin: Redis;

beforeAll(() => {
  admin = new Redis(inject('redisUrl'));
});

afterAll(async () => {
  await admin.quit();
});

async function deleteKeys(prefix: string): Promise<void> {
  const keys = await admin.keys(`${prefix}:*`);
  if (keys.length > 0) await admin.del(...keys);
}

function makeBus(prefix: string, extra: Partial<RedisStreamsBusOptions> = {}): RedisStreamsBus {
  // A short block keeps every close() in these tests quick.
  return new RedisStreamsBus({ redis: inject('redisUrl'), prefix, logger, blockMs: 200, ...extra });
}

busContract('redis streams', async () => {
  const prefix = testPrefix('bus');
  return { bus: makeBus(prefix), cleanup: () => deleteKeys(prefix) };
});

describe('RedisStreamsBus', () => {
  let prefix: string;
  const buses: RedisStreamsBus[] = [];
  const open = (extra: Partial<RedisStreamsBusOptions> = {}): RedisStreamsBus => {
    const bus = makeBus(prefix, extra);
    buses.push(bus);
    return bus;
  };

  beforeAll(() => {
    prefix = testPrefix('busr');
  });

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    await deleteKeys(prefix);
  });

  it('stores messages on the topic stream under the prefix, as id, at and JSON data', async () => {
    const bus = open();
    const id = await bus.publish('fleet', fleetEvent('vm-1'));
    const entries = await admin.xrange(`${prefix}:bus:fleet`, '-', '+');
    expect(entries).toHaveLength(1);
    const fields = entries[0]![1];
    expect(fields[fields.indexOf('id') + 1]).toBe(id);
    expect(Number(fields[fields.indexOf('at') + 1])).toBeGreaterThan(0);
    expect(JSON.parse(fields[fields.indexOf('data') + 1]!)).toEqual(fleetEvent('vm-1'));
  });

  it('trims each stream to about maxLenApprox entries', async () => {
    const bus = open({ maxLenApprox: 100 });
    for (let i = 0; i < 10; i++)
      await Promise.all(range(100).map((j) => bus.publish('progress', { workerId: `w${i}-${j}`, events: [] })));
    const len = await admin.xlen(`${prefix}:bus:progress`);
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThan(1000);
  });

  it('drops from the stream what every group has acked, and keeps what a slower group still needs', async () => {
    const bus = open();
    const fast = new Set<string>();
    await bus.subscribe('progress', 'fast', async (m) => void fast.add(m.id));
    // A second group that reads nothing yet: everything must stay for it.
    await admin.xgroup('CREATE', `${prefix}:bus:progress`, 'slow', '0', 'MKSTREAM').catch(() => undefined);
    await Promise.all(range(500).map((j) => bus.publish('progress', { workerId: `w${j}`, events: [] })));
    while (fast.size < 500) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 1100));
    await bus.publish('progress', { workerId: 'last', events: [] });
    while (fast.size < 501) await new Promise((r) => setTimeout(r, 20));
    expect(await admin.xlen(`${prefix}:bus:progress`)).toBe(501);
    // Once the slow group has gone through everything too, the acked entries go.
    await admin.xgroup('DESTROY', `${prefix}:bus:progress`, 'slow');
    await new Promise((r) => setTimeout(r, 1100));
    await bus.publish('progress', { workerId: 'later', events: [] });
    const until = Date.now() + 5000;
    while ((await admin.xlen(`${prefix}:bus:progress`)) > 200 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(await admin.xlen(`${prefix}:bus:progress`)).toBeLessThan(200);
  });

  it("hands a dead consumer's unacked message to a live one after the deadline, as a second attempt", async () => {
    const bus = open();
    const key = `${prefix}:bus:fleet`;
    const id = await bus.publish('fleet', fleetEvent('orphan'));
    // A process that read the message and died before acking: a raw consumer in the group.
    await admin.xgroup('CREATE', key, 'takeover', '0');
    const taken = (await admin.xreadgroup('GROUP', 'takeover', 'crashed', 'COUNT', 10, 'STREAMS', key, '>')) as [
      string,
      unknown[],
    ][];
    expect(taken[0]![1]).toHaveLength(1);
    const got = recorder<'fleet'>();
    const subscribedAt = Date.now();
    await bus.subscribe('fleet', 'takeover', got.handler, { ackDeadlineMs: 500 });
    await waitFor(() => got.msgs.length >= 1, 5000);
    expect(Date.now() - subscribedAt).toBeGreaterThanOrEqual(300);
    await sleep(700);
    // Delivered once to the live consumer, as attempt 2 (the first went to the dead one), then acked.
    expect(got.msgs).toHaveLength(1);
    expect(got.msgs[0]).toMatchObject({ id, deliveryAttempt: 2 });
    const pending = (await admin.xpending(key, 'takeover')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  it('moves a message that keeps failing to the dead-letter stream after maxDeliveryAttempts', async () => {
    const bus = open({ maxDeliveryAttempts: 2 });
    const attempts: number[] = [];
    await bus.subscribe(
      'provision',
      'poisoned',
      async (m) => {
        attempts.push(m.deliveryAttempt);
        throw new Error('always fails');
      },
      { ackDeadlineMs: 200 },
    );
    const id = await bus.publish('provision', { type: 'delete', pool: 'a100', name: 'vm-x', reason: 'test' });
    const deadKey = `${prefix}:bus:provision:dead:poisoned`;
    await waitFor(() => attempts.length >= 2, 5000);
    let dead: [string, string[]][] = [];
    for (let i = 0; i < 50 && dead.length === 0; i++) {
      dead = await admin.xrange(deadKey, '-', '+');
      if (dead.length === 0) await sleep(100);
    }
    expect(attempts).toEqual([1, 2]);
    expect(dead).toHaveLength(1);
    const fields = dead[0]![1];
    expect(fields[fields.indexOf('id') + 1]).toBe(id);
    expect(fields[fields.indexOf('kumo-reason') + 1]).toBe('max-delivery-attempts');
    // Acked on the topic stream: nothing is left pending for the group.
    const pending = (await admin.xpending(`${prefix}:bus:provision`, 'poisoned')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
    await sleep(600);
    expect(attempts).toHaveLength(2);
  });

  it('hands read-ahead messages back at close(), so a peer gets them at once and as first attempts', async () => {
    const bus = open({ readBatch: 100 });
    const slow = recorder<'fleet'>(150);
    const first = await bus.subscribe('fleet', 'handback', slow.handler, { concurrency: 2, ackDeadlineMs: 30_000 });
    await Promise.all(range(30).map((i) => bus.publish('fleet', fleetEvent(`vm-${i}`))));
    await waitFor(() => slow.msgs.length >= 2);
    await first.close();
    const handled = slow.msgs.length;
    expect(handled).toBeLessThan(30);
    const next: BusMessage<'fleet'>[] = [];
    const startedAt = Date.now();
    await bus.subscribe('fleet', 'handback', async (m) => void next.push(m), { concurrency: 8, ackDeadlineMs: 30_000 });
    await waitFor(() => handled + next.length >= 30, 5000);
    // Well inside the 30 s deadline: they were handed back, not left to expire.
    expect(Date.now() - startedAt).toBeLessThan(5000);
    expect(next.every((m) => m.deliveryAttempt === 1)).toBe(true);
    expect(new Set([...slow.msgs, ...next].map((m) => m.data.name)).size).toBe(30);
  });

  it('creates its consumer group again when Redis forgot it (a restart without persistence)', async () => {
    const bus = open();
    const got = recorder<'fleet'>();
    await bus.subscribe('fleet', 'forgetful', got.handler, { ackDeadlineMs: 500 });
    await bus.publish('fleet', fleetEvent('before'));
    await waitFor(() => got.msgs.length === 1);
    await admin.xgroup('DESTROY', `${prefix}:bus:fleet`, 'forgetful');
    const id = await bus.publish('fleet', fleetEvent('after'));
    await waitFor(() => got.msgs.some((m) => m.id === id), 5000);
    const groups = (await admin.xinfo('GROUPS', `${prefix}:bus:fleet`)) as unknown[];
    expect(groups).toHaveLength(1);
  });

  it('removes its consumer from the group on close when it owns nothing pending', async () => {
    const bus = open();
    const sub = await bus.subscribe('fleet', 'tidy', recorder<'fleet'>().handler, { ackDeadlineMs: 1000 });
    await bus.publish('fleet', fleetEvent('vm-1'));
    await sleep(200);
    const during = (await admin.xinfo('CONSUMERS', `${prefix}:bus:fleet`, 'tidy')) as unknown[];
    expect(during).toHaveLength(1);
    await sub.close();
    const after = (await admin.xinfo('CONSUMERS', `${prefix}:bus:fleet`, 'tidy')) as unknown[];
    expect(after).toHaveLength(0);
  });
});
