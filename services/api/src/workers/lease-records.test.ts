import { Job, Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { Keys, queueName, type TaskData } from '@kumo/shared';
import { redisForSuite, testPrefix } from '../../../../test/support/prefix';
import { jobOf, LeaseRecords, snapshotOf, type LeaseRecord } from './lease-records';

describe('lease records: a lease and its task lock in one read', () => {
  const prefix = testPrefix('lease-records');
  const redis = redisForSuite(prefix);
  const keys = new Keys(prefix);
  const records = new LeaseRecords(redis, keys, 60_000);
  const record = (bullId: string, lockKey?: string): LeaseRecord => ({
    bullId,
    jobId: 'j1',
    index: 3,
    attempt: 1,
    pool: 'p',
    workerId: 'w',
    tokenId: 't',
    startedAt: 1,
    ...(lockKey ? { lockKey } : {}),
  });

  it('answers the lock token while the lock is the lease, none once the lock is gone, nothing without a record', async () => {
    const lockKey = records.lockKey('p', '7');
    await records.write('lease-a', record('7', lockKey));
    await redis.set(lockKey, 'lease-a');
    expect(await records.read('lease-a')).toMatchObject({ rec: { bullId: '7', index: 3 }, lock: 'lease-a' });
    await redis.set(lockKey, 'another-delivery');
    expect((await records.read('lease-a'))?.lock).toBe('another-delivery');
    await redis.del(lockKey);
    expect((await records.read('lease-a'))?.lock).toBeUndefined();
    await records.drop('lease-a');
    expect(await records.read('lease-a')).toBeUndefined();
  });

  it('reads the lock of a record written before lockKey from where the lock is kept', async () => {
    await records.write('lease-old', record('8'));
    expect((await records.read('lease-old'))?.lock).toBeUndefined();
    await redis.set(`${keys.queuePrefix()}:${queueName('p')}:8:lock`, 'lease-old');
    expect((await records.read('lease-old'))?.lock).toBe('lease-old');
  });

  it('reads many leases in one call as read reads each, in order; writes and drops many at once', async () => {
    const lockKey = (bullId: string): string => records.lockKey('p', bullId);
    await records.writeMany([
      { leaseId: 'm-held', rec: record('21', lockKey('21')) },
      { leaseId: 'm-gone', rec: record('22', lockKey('22')) },
      { leaseId: 'm-old', rec: record('23') },
    ]);
    await redis.set(lockKey('21'), 'm-held');
    await redis.set(lockKey('23'), 'm-old');
    const ids = ['m-held', 'm-none', 'm-gone', 'm-old'];
    const many = await records.readMany(ids);
    expect(many.map((r) => r && { bullId: r.rec.bullId, lock: r.lock })).toEqual([
      { bullId: '21', lock: 'm-held' },
      undefined,
      { bullId: '22', lock: undefined },
      // A record from before lockKey: its lock read where it is kept, as read does.
      { bullId: '23', lock: 'm-old' },
    ]);
    expect(many).toEqual(await Promise.all(ids.map((id) => records.read(id))));
    expect(await redis.pttl(keys.lease('m-held'))).toBeGreaterThan(60_000);
    await records.dropMany(['m-held', 'm-gone', 'm-old']);
    expect(await records.readMany(ids)).toEqual([undefined, undefined, undefined, undefined]);
    expect(await records.readMany([])).toEqual([]);
  });

  it('rebuilds the leased entry from its snapshot: id, data, options and attempts as BullMQ keeps them', async () => {
    const queue = new Queue<TaskData>(queueName('snap'), { connection: redis, prefix: keys.queuePrefix() });
    try {
      const added = await queue.add(
        't',
        { j: 'j1', i: 4 },
        { attempts: 3, backoff: { type: 'fixed', delay: 50 }, removeOnComplete: true },
      );
      const stored = (await Job.fromId<TaskData>(queue, added.id!))!;
      const rebuilt = jobOf(queue, { ...record(added.id!), job: snapshotOf(stored) })!;
      expect(rebuilt.id).toBe(added.id);
      expect(rebuilt.data).toEqual({ j: 'j1', i: 4 });
      expect(rebuilt.opts).toMatchObject({
        attempts: 3,
        backoff: { type: 'fixed', delay: 50 },
        removeOnComplete: true,
      });
      expect([rebuilt.attemptsMade, rebuilt.attemptsStarted, rebuilt.stalledCounter, rebuilt.timestamp]).toEqual([
        stored.attemptsMade,
        stored.attemptsStarted,
        stored.stalledCounter,
        stored.timestamp,
      ]);
      expect(jobOf(queue, record(added.id!))).toBeUndefined();
    } finally {
      await queue.close();
    }
  });
});
