import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testPrefix } from '../../../test/support/prefix';
import { jobSpecSchema } from '../catalog/index';
import { VirtualClock } from '../clock';
import { JobStore } from '../jobs/job-store';
import { poolSettingsSchema } from '../pools/pool';
import { PoolStore } from '../pools/pool-store';
import { JobSpecCache, type JobSource } from './job-spec-cache';

const spec = (name: string) =>
  jobSpecSchema.parse({
    kind: 'extraction',
    name,
    source: { snapshot: 'CC-MAIN-2023-50', batches: 3 },
    pool: 'local',
    run: { builtin: 'noop' },
  });

describe('JobSpecCache: the one bounded cache of job specs', () => {
  let redis: Redis;
  let store: JobStore;
  const prefix = testPrefix('spec-cache');
  const reads = { runtime: 0, state: 0 };
  let source: JobSource;

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
    store = new JobStore(redis, { prefix });
    await new PoolStore(redis, { prefix }).put('local', poolSettingsSchema.parse({ zones: ['local'], max: 2 }));
    // The real store, its reads counted.
    source = {
      runtime: (id) => (reads.runtime++, store.runtime(id)),
      state: (id) => (reads.state++, store.state(id)),
    };
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('reads a spec, pool and user once; fixed() never reads the state, get() past the ttl does', async () => {
    const clock = new VirtualClock();
    const cache = new JobSpecCache(source, { clock, stateTtlMs: 0 });
    const { job } = await store.create({ spec: spec('a'), user: 'alice' });
    reads.runtime = reads.state = 0;
    const first = await cache.fixed(job.id);
    expect(first).toMatchObject({ id: job.id, pool: 'local', user: 'alice', total: 3, state: 'queued' });
    expect((await cache.fixed(job.id))?.spec.name).toBe('a');
    expect(reads).toEqual({ runtime: 1, state: 0 });
    await store.cancel(job.id, 'test');
    expect((await cache.get(job.id))?.state).toBe('cancelled');
    expect(reads).toEqual({ runtime: 1, state: 1 });
    expect(await cache.fixed('no-such-job')).toBeUndefined();
  });

  it('keeps at most maxJobs, dropping the least recently used', async () => {
    const cache = new JobSpecCache(source, { clock: new VirtualClock(), maxJobs: 2 });
    const ids = [];
    for (const n of ['x', 'y', 'z']) ids.push((await store.create({ spec: spec(n), user: 'bob' })).job.id);
    const [x, y, z] = ids as [string, string, string];
    await cache.fixed(x);
    await cache.fixed(y);
    await cache.fixed(x); // x is now the most recently used: y goes first
    await cache.fixed(z);
    reads.runtime = 0;
    await cache.fixed(x);
    await cache.fixed(z);
    expect(reads.runtime).toBe(0);
    await cache.fixed(y);
    expect(reads.runtime).toBe(1);
  });
});
