import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger, InMemoryBus, JobStore, Keys, wallClock, type Principal } from '@kumo/shared';
import { LeaseBroker, PoolQueues } from '@kumo/api';
import { deleteKeys, testPrefix } from '../support/prefix';

/**
 * The pool check lives in the broker, not only in the HTTP route in front of it: whoever calls it, a
 * worker token leases, renews and reports only in its own pool.
 */
const prefix = testPrefix('broker-pools');
const keys = new Keys(prefix);
const logger = createLogger({ name: 'broker-pools', level: 'silent' });
const trainToken: Principal = { tokenId: 'tok-train', role: 'worker', name: 'contrib', pool: 'train' };
let redis: Redis;
let queues: PoolQueues;
let broker: LeaseBroker;
let bus: InMemoryBus;

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  queues = new PoolQueues(redis, keys);
  bus = new InMemoryBus();
  broker = new LeaseBroker({
    redis,
    queues,
    redisUrl: inject('redisUrl'),
    prefix,
    jobs: new JobStore(redis, { prefix }),
    bus,
    clock: wallClock,
    logger,
  });
});
afterAll(async () => {
  await broker.close();
  await queues.close();
  await bus.close();
  await deleteKeys(prefix);
  await redis.quit();
});

describe('the lease broker and pools', () => {
  it("refuses a worker token another pool's tasks", async () => {
    await expect(broker.lease(trainToken, 'contrib', 'evals', 1)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // An admin may lease from any pool.
    await expect(
      broker.lease({ tokenId: 'tok-admin', role: 'admin', name: 'root' }, 'root', 'evals', 1),
    ).resolves.toEqual([]);
  });

  it("refuses a report or heartbeat on a lease of another pool, even one recorded under the token's id", async () => {
    const leaseId = randomUUID();
    const rec = {
      bullId: 'b1',
      jobId: 'job_x',
      index: 0,
      attempt: 1,
      pool: 'evals',
      workerId: 'contrib',
      tokenId: trainToken.tokenId,
      startedAt: 0,
    };
    await redis.set(keys.lease(leaseId), JSON.stringify(rec), 'PX', 60_000);
    await expect(broker.report(trainToken, leaseId, 'c', { step: 1, uri: 'gs://b/x' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(broker.heartbeat(trainToken, [leaseId])).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(broker.complete(trainToken, leaseId, { outcome: 'succeeded' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});
