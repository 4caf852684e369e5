import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createLogger,
  JobStore,
  jobSpecSchema,
  Keys,
  LOCAL_POOL_DEFAULTS,
  monthOf,
  PoolStore,
  poolSettingsSchema,
  VirtualClock,
  type Pool,
  type TaskEvent,
} from '@kumo/shared';
import { deleteKeys, testPrefix } from '../../../test/support/prefix';
import { Feeder } from './feeder';
import { RecordingSink } from './recording-task-sink';

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
  for (const name of ['a', 'b'])
    await pools.put(name, poolSettingsSchema.parse({ ...LOCAL_POOL_DEFAULTS, max: 1, slotsPerVm: 100 }));
  const spec = (pool: string) =>
    jobSpecSchema.parse({
      kind: 'extraction',
      name: `in-${pool}`,
      source: { snapshot: 'S', batches: 1000 },
      pool,
      run: { builtin: 'noop' },
    });
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
      jobSpecSchema.parse({
        kind: 'training',
        name,
        model: { name: 'm' },
        target: { steps: 1 },
        pool: 'gpu',
        run: { builtin: 'noop' },
        ...(nodes ? { nodes } : {}),
      });
    const gang = (await jobs.create({ spec: training('gang', 8), user: 'u-gang' })).job.id;
    const others = [];
    for (let n = 0; n < 59; n++)
      others.push(
        (
          await jobs.create({
            spec: jobSpecSchema.parse({
              kind: 'extraction',
              name: `x${n}`,
              source: { snapshot: 'S', batches: 1000 },
              pool: 'gpu',
              run: { builtin: 'noop' },
            }),
            user: `u${n}`,
          })
        ).job.id,
      );
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
    const gang = (name: string) =>
      jobSpecSchema.parse({
        kind: 'training',
        name,
        model: { name: 'm' },
        target: { steps: 1 },
        pool: 'gpu',
        nodes: 4,
        run: { builtin: 'noop' },
      });
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

/** $0.10 a task: each runs 1 s at $0.0001 a slot-millisecond. */
const USD_PER_SLOT_MS = 0.0001;
const TASK_MS = 1000;

/** Tasks [from, to) of a job start and succeed, as the ingester applies them (cost accrues). */
async function finish(jobs: JobStore, jobId: string, user: string, from: number, to: number): Promise<void> {
  const events: TaskEvent[] = [];
  for (let i = from; i < to; i++)
    events.push(
      { t: 's', j: jobId, i, a: 1, w: 'w', at: 0 },
      { t: 'ok', j: jobId, i, a: 1, w: 'w', at: 0, d: TASK_MS },
    );
  await jobs.applyEvents(jobId, 'm', events, USD_PER_SLOT_MS, user);
}

async function setup(
  start: number,
): Promise<{ clock: VirtualClock; jobs: JobStore; feeder: Feeder; sink: RecordingSink; pool: Pool }> {
  const prefix = testPrefix('monthly');
  prefixes.push(prefix);
  const clock = new VirtualClock(start);
  const jobs = new JobStore(redis, { prefix, clock });
  const pools = new PoolStore(redis, { prefix });
  await pools.put('m', poolSettingsSchema.parse({ ...LOCAL_POOL_DEFAULTS, max: 1, slotsPerVm: 10 }));
  const sink = new RecordingSink();
  return {
    clock,
    jobs,
    sink,
    feeder: new Feeder({ redis, prefix, jobs, logger, sink, poolNames: async () => ['m'] }),
    pool: (await pools.get('m'))!,
  };
}

const extraction = (name: string) =>
  jobSpecSchema.parse({
    kind: 'extraction',
    name,
    source: { snapshot: 'S', batches: 1000 },
    pool: 'm',
    run: { builtin: 'noop' },
  });

describe('Monthly budgets on a virtual clock', () => {
  it("holds a user's jobs at a monthly budget and lets them go on when the month starts in Asia/Tokyo, not in UTC", async () => {
    // 2026-01-31 23:00 in Tokyo (14:00 UTC).
    const { clock, jobs, feeder, sink, pool } = await setup(Date.UTC(2026, 0, 31, 14));
    await jobs.budgets.set('aya', 1, 'month');
    const id = (await jobs.create({ spec: extraction('aya-x'), user: 'aya' })).job.id;
    await feeder.feed(pool);
    // No cost known yet: a first wave the size of the pool's slots.
    expect(sink.added).toEqual([expect.objectContaining({ jobId: id, from: 0, to: 10 })]);
    await finish(jobs, id, 'aya', 0, 10);
    expect(await jobs.budgets.get('aya')).toMatchObject({
      period: 'month',
      month: '2026-01',
      monthCostUsd: 1,
      costUsd: 1,
      maxCostUsd: 1,
    });
    await feeder.feed(pool);
    expect(sink.added).toHaveLength(1);
    expect(await jobs.get(id)).toMatchObject({
      state: 'budget_exhausted',
      reason: expect.stringMatching(/budget of user aya \(\$1\) reached/),
    });

    // 00:30 on February 1st in Tokyo; still January in UTC.
    await clock.advanceTo(Date.UTC(2026, 0, 31, 15, 30));
    expect(monthOf(clock.now(), 'UTC')).toBe('2026-01');
    expect(await jobs.budgets.get('aya')).toMatchObject({ month: '2026-02', monthCostUsd: 0, costUsd: 1 });
    await feeder.feed(pool);
    expect((await jobs.get(id))?.state).toBe('running');
    // Resumed on that tick, fed on the next: the new month's room at $0.10 a task, 10 more.
    await feeder.feed(pool);
    expect(sink.added.slice(1)).toEqual([expect.objectContaining({ jobId: id, from: 10, to: 20 })]);
    await finish(jobs, id, 'aya', 10, 20);
    expect((await jobs.budgets.get('aya')).monthCostUsd).toBe(1);
  });

  it('a budget with no period counts all the spend there was: the new month does not reset it', async () => {
    const { clock, jobs, feeder, pool } = await setup(Date.UTC(2026, 0, 31, 14));
    await jobs.budgets.set('ben', 1);
    const id = (await jobs.create({ spec: extraction('ben-x'), user: 'ben' })).job.id;
    await feeder.feed(pool);
    await finish(jobs, id, 'ben', 0, 10);
    await feeder.feed(pool);
    await clock.advanceTo(Date.UTC(2026, 1, 3));
    await feeder.feed(pool);
    expect(await jobs.get(id)).toMatchObject({ state: 'budget_exhausted' });
    expect(await jobs.budgets.get('ben')).toMatchObject({ period: 'all', monthCostUsd: 0, costUsd: 1 });
  });

  it("the team's monthly budget holds everyone's jobs, in every pool, and the next month frees them", async () => {
    const { clock, jobs, feeder, pool } = await setup(Date.UTC(2026, 2, 31, 14));
    await jobs.budgets.setTeam(1.5);
    const a = (await jobs.create({ spec: extraction('a'), user: 'aya' })).job.id;
    const b = (await jobs.create({ spec: extraction('b'), user: 'ben' })).job.id;
    await feeder.feed(pool);
    await finish(jobs, a, 'aya', 0, 5);
    await finish(jobs, b, 'ben', 0, 5);
    // $1 spent, and each job has 5 more tasks in flight ($0.50 each): nothing left of $1.50.
    await feeder.feed(pool);
    for (const id of [a, b])
      expect(await jobs.get(id)).toMatchObject({
        state: 'budget_exhausted',
        reason: expect.stringMatching(/team's monthly budget \(\$1\.5\) reached \(\$1\.00 spent\)/),
      });
    expect(await jobs.budgets.team()).toEqual({ maxCostUsd: 1.5, month: '2026-03', monthCostUsd: 1 });
    await clock.advanceTo(Date.UTC(2026, 2, 31, 15));
    await feeder.feed(pool);
    for (const id of [a, b]) expect((await jobs.get(id))?.state).toBe('running');
  });
});

describe('Feeder and users’ shares', () => {
  it('feeds users by weight, and a capped user only up to maxSlots less the tasks they have in flight in that pool', async () => {
    const { jobs, feeder, sink, pool } = await setup(Date.UTC(2026, 5, 1));
    const keys = new Keys(jobs.keys.prefix);
    await jobs.shares.set('ann', { weight: 1, maxSlots: { m: 5, other: 100 } });
    await jobs.shares.set('bob', { weight: 3, maxSlots: {} });
    const ann = (await jobs.create({ spec: extraction('ann-x'), user: 'ann' })).job.id;
    const bob = (await jobs.create({ spec: extraction('bob-x'), user: 'bob' })).job.id;
    const cho = (await jobs.create({ spec: extraction('cho-x'), user: 'cho' })).job.id;
    // ann has 3 fed, 1 finished: 2 in flight, so 3 more fit under her cap of 5.
    await redis.hset(keys.job(ann), { state: 'running', fed: 3, succeeded: 1 });
    await feeder.feed(pool);
    const fedTo = (id: string) => sink.added.filter((r) => r.jobId === id).reduce((n, r) => n + r.to - r.from, 0);
    expect(fedTo(ann)).toBe(3);
    // The window (32 tasks a slot, 320): ann's 3, then bob and cho 3 to 1 of the rest.
    expect(fedTo(bob) + fedTo(cho)).toBe(317);
    expect(fedTo(bob)).toBeGreaterThanOrEqual(3 * fedTo(cho) - 3);
    expect(fedTo(bob)).toBeLessThanOrEqual(3 * fedTo(cho) + 3);
    await feeder.feed(pool);
    expect(fedTo(ann)).toBe(3);
  });
});
