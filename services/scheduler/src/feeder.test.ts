import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger, JobStore, jobSpecSchema, Keys, LOCAL_POOL_DEFAULTS, PoolStore, poolSettingsSchema, type Pool } from '@kumo/shared';
import { deleteKeys, testPrefix } from '../../../test/support/prefix';
import { Feeder } from './feeder';
import type { FedRange, TaskSink } from './task-sink';

const logger = createLogger({ name: 'test', level: 'silent' });
let redis: Redis;
const prefixes: string[] = [];

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
});
afterAll(async () => {
  for (const p of prefixes) await deleteKeys(p);
  await redis.quit();
});

/** A queue that is always empty and remembers what it was given. */
class RecordingSink implements TaskSink {
  readonly added: FedRange[] = [];
  async waiting(): Promise<number> {
    return 0;
  }
  async add(_pool: string, r: FedRange): Promise<number> {
    this.added.push(r);
    return r.to - r.from;
  }
  async close(): Promise<void> {}
}

/**
 * User ken has $1. His job in pool `a` has 90 tasks in flight at $0.01 each ($0.90 of his money spoken
 * for); his job in pool `b` has finished 10 tasks ($0.10). Only $1 - $0.20 spent - $0.90 in flight is
 * left: nothing, so pool b's feeder must hold his job there, not feed it on what pool a has committed.
 */
async function kenInTwoPools(): Promise<{ jobs: JobStore; b: Pool; jobB: string; prefix: string }> {
  const prefix = testPrefix('feeder');
  prefixes.push(prefix);
  const keys = new Keys(prefix);
  const jobs = new JobStore(redis, { prefix });
  const pools = new PoolStore(redis, { prefix });
  for (const name of ['a', 'b']) await pools.put(name, poolSettingsSchema.parse({ ...LOCAL_POOL_DEFAULTS, max: 1, slotsPerVm: 100 }));
  const spec = (pool: string) => jobSpecSchema.parse({ kind: 'extraction', name: `in-${pool}`, source: { snapshot: 'S', batches: 1000 }, pool, run: { builtin: 'noop' } });
  const jobA = (await jobs.create({ spec: spec('a'), user: 'ken' })).job.id;
  const jobB = (await jobs.create({ spec: spec('b'), user: 'ken' })).job.id;
  await redis.hset(keys.job(jobA), { state: 'running', fed: 100, succeeded: 10, costUsd: 0.1 });
  await redis.hset(keys.job(jobB), { state: 'running', fed: 10, succeeded: 10, costUsd: 0.1 });
  await redis.hset(keys.user('ken'), { costUsd: 0.2 });
  await jobs.budgets.set('ken', 1);
  return { jobs, b: (await pools.get('b'))!, jobB, prefix };
}

describe('Feeder and user budgets', () => {
  it("counts the user's tasks in flight in every pool: pool b holds his job when pool a has committed the rest", async () => {
    const { jobs, b, jobB, prefix } = await kenInTwoPools();
    const sink = new RecordingSink();
    const feeder = new Feeder({ redis, prefix, jobs, logger, sink, poolNames: async () => ['a', 'b'] });
    const r = await feeder.feed(b);
    expect(r.added).toBe(0);
    expect(sink.added).toEqual([]);
    const held = await jobs.get(jobB);
    expect(held?.state).toBe('budget_exhausted');
    expect(held?.reason).toMatch(/budget of user ken \(\$1\) reached/);
  });

  it('without the other pools in view, the same state would feed on money already committed (what the test above guards)', async () => {
    const { jobs, b, prefix } = await kenInTwoPools();
    const sink = new RecordingSink();
    const r = await new Feeder({ redis, prefix, jobs, logger, sink }).feed(b);
    // $0.80 at $0.01 a task: 80 more tasks, though pool a has $0.90 of the $1 in flight.
    expect(r.added).toBe(80);
  });
});

describe('Feeder and gangs', () => {
  it('feeds a gang whole even when its fair share of the window is smaller, and a single-VM job only its share', async () => {
    const prefix = testPrefix('feeder-gang');
    prefixes.push(prefix);
    const jobs = new JobStore(redis, { prefix });
    const pools = new PoolStore(redis, { prefix });
    // Window: 200 tasks (the minimum); 60 single-task jobs and 60 users share it 3 or 4 each.
    await pools.put('gpu', poolSettingsSchema.parse({ ...LOCAL_POOL_DEFAULTS, max: 8, slotsPerVm: 1 }));
    const pool = (await pools.get('gpu'))!;
    const training = (name: string, nodes?: number) =>
      jobSpecSchema.parse({ kind: 'training', name, model: { name: 'm' }, target: { steps: 1 }, pool: 'gpu', run: { builtin: 'noop' }, ...(nodes ? { nodes } : {}) });
    const gang = (await jobs.create({ spec: training('gang', 8), user: 'u-gang' })).job.id;
    const others = [];
    for (let n = 0; n < 59; n++) others.push((await jobs.create({ spec: jobSpecSchema.parse({ kind: 'extraction', name: `x${n}`, source: { snapshot: 'S', batches: 1000 }, pool: 'gpu', run: { builtin: 'noop' } }), user: `u${n}` })).job.id);
    const sink = new RecordingSink();
    await new Feeder({ redis, prefix, jobs, logger, sink }).feed(pool);
    const byJob = new Map(sink.added.map((r) => [r.jobId, r]));
    expect(byJob.get(gang)).toMatchObject({ from: 0, to: 8 });
    expect(Math.max(...others.map((id) => (byJob.get(id)?.to ?? 0) - (byJob.get(id)?.from ?? 0)))).toBeLessThan(8);
  });
});

describe('Feeder and two gangs that do not fit together', () => {
  it('feeds the second gang only once the first is done: a pool of 4 VMs never splits between two gangs of 4', async () => {
    const prefix = testPrefix('feeder-gangs');
    prefixes.push(prefix);
    const keys = new Keys(prefix);
    const jobs = new JobStore(redis, { prefix });
    const pools = new PoolStore(redis, { prefix });
    await pools.put('gpu', poolSettingsSchema.parse({ ...LOCAL_POOL_DEFAULTS, max: 4, slotsPerVm: 1 }));
    const pool = (await pools.get('gpu'))!;
    const gang = (name: string) => jobSpecSchema.parse({ kind: 'training', name, model: { name: 'm' }, target: { steps: 1 }, pool: 'gpu', nodes: 4, run: { builtin: 'noop' } });
    const a = (await jobs.create({ spec: gang('a'), user: 'ann' })).job.id;
    const b = (await jobs.create({ spec: gang('b'), user: 'bob' })).job.id;
    const sink = new RecordingSink();
    const feeder = new Feeder({ redis, prefix, jobs, logger, sink });
    await feeder.feed(pool);
    await feeder.feed(pool);
    expect(sink.added.map((r) => [r.from, r.to])).toEqual([[0, 4]]);
    const first = sink.added[0]!.jobId;
    // The first gang's four ranks finish; then the other gang fits.
    await redis.hset(keys.job(first), { succeeded: 4, state: 'succeeded' });
    await feeder.feed(pool);
    expect(sink.added.map((r) => r.jobId).sort()).toEqual([a, b].sort());
  });
});
