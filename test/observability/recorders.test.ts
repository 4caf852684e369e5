import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { FleetEventsHandler } from '@kumo/scheduler';
import {
  createLogger,
  DispatchLatencyRecorder,
  FleetStore,
  InMemoryBus,
  Keys,
  readDispatchLatency,
  readProvisionErrors,
  wallClock,
  type BusMessage,
} from '@kumo/shared';
import { redisForSuite, testPrefix } from '../support/prefix';

/** The Redis-side aggregates other processes write for the API's /metrics. */
describe('metrics written where things happen', () => {
  const prefix = testPrefix('rec');
  const keys = new Keys(prefix);
  const redis = redisForSuite(prefix);

  it('dispatch latency: buffered samples land in the right buckets, cumulative on read, +Inf for the tail', async () => {
    const key = keys.metricsDispatchLatency('a100');
    const rec = new DispatchLatencyRecorder(redis, key, { flushMs: 60_000 });
    for (const s of [0.003, 0.7, 0.9, 7200, -1]) rec.observe(s);
    expect(await readDispatchLatency(redis, key)).toBeUndefined(); // nothing sent before a flush
    await rec.close();
    const h = (await readDispatchLatency(redis, key))!;
    const at = (le: number): number => h.buckets.find((b) => b.le === le)!.count;
    expect(at(0.01)).toBe(2); // 0.003, and -1 read as 0 (clock skew between machines)
    expect(at(0.5)).toBe(2);
    expect(at(1)).toBe(4);
    expect(at(3600)).toBe(4);
    expect(at(Number.POSITIVE_INFINITY)).toBe(5);
    expect(h.count).toBe(5);
    expect(h.sum).toBeCloseTo(7201.603, 6);
  });

  it('dispatch latency: a failed flush keeps its samples for the next one', async () => {
    const key = keys.metricsDispatchLatency('flaky');
    const offline = new Redis(inject('redisUrl'), { lazyConnect: true, enableOfflineQueue: false });
    const rec = new DispatchLatencyRecorder(offline, key, { flushMs: 60_000 });
    rec.observe(2);
    await expect(rec.flush()).rejects.toThrow();
    // The failed command started the connection (lazyConnect); once up, the next flush goes through.
    if (offline.status !== 'ready') await new Promise((r) => offline.once('ready', r));
    rec.observe(3);
    await rec.close();
    expect((await readDispatchLatency(redis, key))!).toMatchObject({ count: 2, sum: 5 });
    await offline.quit();
  });

  it('provisioning errors: a failed create is counted once by its code, however often the fleet event is redelivered', async () => {
    const fleet = new FleetStore(redis, { prefix });
    const handler = new FleetEventsHandler({
      bus: new InMemoryBus(),
      fleet,
      clock: wallClock,
      logger: createLogger({ name: 'rec', level: 'silent' }),
    });
    const fail = (name: string, code: string): BusMessage<'fleet'> => ({
      id: `m-${name}`,
      topic: 'fleet',
      publishedAt: Date.now(),
      deliveryAttempt: 1,
      data: {
        type: 'vm',
        name,
        pool: 'a100',
        state: 'failed',
        reason: 'no',
        error: { code, message: 'no' },
        at: Date.now(),
      },
    });
    for (const name of ['vm-1', 'vm-2', 'vm-3']) await fleet.move(name, 'a100', 'requested');
    await handler.handle(fail('vm-1', 'QUOTA_EXCEEDED'));
    await handler.handle(fail('vm-1', 'QUOTA_EXCEEDED')); // redelivered: the move is refused, not counted
    await handler.handle(fail('vm-2', 'ZONE_RESOURCE_POOL_EXHAUSTED'));
    await handler.handle(fail('vm-3', 'a message, not a code'));
    const counts = Object.fromEntries(
      (await readProvisionErrors(redis, keys.metricsProvisionErrors())).map((e) => [`${e.pool}/${e.reason}`, e.count]),
    );
    expect(counts).toEqual({ 'a100/QUOTA_EXCEEDED': 1, 'a100/ZONE_RESOURCE_POOL_EXHAUSTED': 1, 'a100/OTHER': 1 });
  });
});
