import { beforeAll, describe, expect, it } from 'vitest';
import { JobFold } from '@kumo/api';
import {
  deleteJob,
  readDeletable,
  jobSpecSchema,
  JobStore,
  Keys,
  LOCAL_POOL_DEFAULTS,
  PoolStore,
  poolSettingsSchema,
  type Clock,
} from '@kumo/shared';
import { redisForSuite, testPrefix } from '../support/prefix';

const GRACE = 60_000;

/** A clock the test moves by hand: folding depends on how long ago jobs ended. */
function handClock(start: number): Clock & { t: number } {
  const c = { t: start, now: () => c.t, sleep: async () => undefined };
  return c;
}

describe('JobFold: job totals for /metrics behind a watermark', () => {
  const prefix = testPrefix('fold');
  const keys = new Keys(prefix);
  const clock = handClock(Date.UTC(2024, 3, 1));
  const redis = redisForSuite(prefix);
  let jobs: JobStore;

  const submit = async (batches: number): Promise<string> =>
    (
      await jobs.create({
        spec: jobSpecSchema.parse({
          kind: 'extraction',
          name: `fold-${batches}`,
          source: { snapshot: 'CC-MAIN-2023-50', batches },
          pool: 'local',
          run: { builtin: 'noop' },
        }),
        user: 'alice',
      })
    ).job.id;
  const succeedAll = async (id: string, n: number): Promise<void> => {
    const events = Array.from({ length: n }, (_, i) => ({
      t: 'ok' as const,
      j: id,
      i,
      a: 1,
      w: 'w1',
      at: clock.t,
      d: 1000,
    }));
    await jobs.applyEvents(id, 'local', events, 0.001);
  };
  const fold = (): JobFold => new JobFold({ redis, keys, clock, graceMs: GRACE, page: 2 });

  beforeAll(async () => {
    jobs = new JobStore(redis, { prefix, clock });
    await new PoolStore(redis, { prefix, clock }).put('local', poolSettingsSchema.parse(LOCAL_POOL_DEFAULTS));
  });

  it('gives the same totals before and after folding, reads only what follows the watermark, and is held back by a live job', async () => {
    const a = await submit(3);
    clock.t += 1;
    const b = await submit(1);
    clock.t += 1;
    const live = await submit(5);
    clock.t += 1;
    const d = await submit(2);
    await succeedAll(a, 3);
    await jobs.cancel(b, 'by test');
    await succeedAll(d, 2);
    await succeedAll(live, 1);

    const fresh = await fold().read();
    expect(fresh.scanned).toHaveLength(4); // all ended within the grace time: nothing folds yet
    const expected = {
      'jobs|local|succeeded': 2,
      'jobs|local|cancelled': 1,
      'jobs|local|running': 1,
      'tasks|local|succeeded': 6,
      'tasks|local|failed': 0,
    };
    expect(Object.fromEntries([...fresh.totals].filter(([k]) => k in expected))).toEqual(expected);
    expect(await redis.hget(keys.metricsJobFold(), 'through')).toBeNull();

    clock.t += GRACE;
    const folded = await fold().read();
    // a and b folded; the live job holds the watermark, d is behind it and still read.
    expect(await redis.hget(keys.metricsJobFold(), 'through')).toBe(b);
    expect(folded.scanned.map((j) => j.id)).toEqual([a, b, live, d]);
    const after = await fold().read();
    expect(after.scanned.map((j) => j.id)).toEqual([live, d]);
    expect(after.totals).toEqual(folded.totals);
    expect(Object.fromEntries([...after.totals].filter(([k]) => k in expected))).toEqual(expected);
    expect(after.totals.get('cost|local')).toBeCloseTo(6, 6); // 6 tasks × 1000 ms × 0.001 USD/ms

    await succeedAll(live, 5);
    clock.t += GRACE;
    const all = await fold().read();
    expect(all.totals.get('jobs|local|succeeded')).toBe(3);
    expect(all.totals.get('jobs|local|running') ?? 0).toBe(0);
    expect(all.totals.get('tasks|local|succeeded')).toBe(10); // task 0 of the live job repeated: counted once
    expect((await fold().read()).scanned).toHaveLength(0);
    expect(await redis.hget(keys.metricsJobFold(), 'through')).toBe(d);
  });

  it('never counts a job twice when several API processes fold at once', async () => {
    const before = await fold().read();
    const ids = [];
    for (let n = 0; n < 6; n++) {
      clock.t += 1;
      ids.push(await submit(1));
    }
    for (const id of ids) await succeedAll(id, 1);
    clock.t += GRACE;
    const racing = await Promise.all([fold().read(), fold().read(), fold().read()]);
    for (const r of racing)
      expect(r.totals.get('jobs|local|succeeded')).toBe((before.totals.get('jobs|local|succeeded') ?? 0) + 6);
    const settled = await fold().read();
    expect(settled.scanned).toHaveLength(0);
    expect(settled.totals.get('jobs|local|succeeded')).toBe((before.totals.get('jobs|local|succeeded') ?? 0) + 6);
    expect(settled.totals.get('tasks|local|succeeded')).toBe((before.totals.get('tasks|local|succeeded') ?? 0) + 6);
  });

  it('keeps counting a deleted job, folded or not yet, and never twice', async () => {
    const total = async (field: string): Promise<number> => (await fold().read()).totals.get(field) ?? 0;
    clock.t += GRACE;
    await fold().read();
    clock.t += 1;
    const folded = await submit(2);
    await succeedAll(folded, 2);
    clock.t += GRACE;
    await fold().read();
    expect(await redis.hget(keys.metricsJobFold(), 'through')).toBe(folded);
    clock.t += 1;
    const fresh = await submit(3);
    await succeedAll(fresh, 3);
    const jobsBefore = await total('jobs|local|succeeded');
    const tasksBefore = await total('tasks|local|succeeded');

    await deleteJob(redis, keys, fresh, await readDeletable(redis, keys, fresh)); // past the watermark: its delete folds it
    await deleteJob(redis, keys, folded, await readDeletable(redis, keys, folded)); // folded already: nothing more to add
    expect(await total('jobs|local|succeeded')).toBe(jobsBefore);
    expect(await total('tasks|local|succeeded')).toBe(tasksBefore);
    clock.t += GRACE;
    expect(await total('jobs|local|succeeded')).toBe(jobsBefore);
    expect(await total('tasks|local|succeeded')).toBe(tasksBefore);
    expect(await jobs.get(fresh)).toBeUndefined();
  });

  it('counts as finished only the tasks that ran, not those a skip preset done', async () => {
    const tasks = async (): Promise<number> => (await fold().read()).totals.get('tasks|local|succeeded') ?? 0;
    const before = await tasks();
    clock.t += 1;
    const { job } = await jobs.create({
      spec: jobSpecSchema.parse({
        kind: 'extraction',
        name: 'fold-skip',
        source: { snapshot: 'CC-MAIN-2023-50', batches: 5 },
        pool: 'local',
        skip: { ranges: [[0, 4]] },
        run: { builtin: 'noop' },
      }),
      user: 'alice',
    });
    expect(job.progress).toMatchObject({ total: 5, skipped: 4, succeeded: 0 });
    expect(await tasks()).toBe(before);
    await jobs.applyEvents(job.id, 'local', [{ t: 'ok', j: job.id, i: 4, a: 1, w: 'w1', at: clock.t, d: 1000 }], 0);
    expect(await tasks()).toBe(before + 1);
    clock.t += GRACE;
    expect(await tasks()).toBe(before + 1); // folded: the same
  });

  it('says when the scan hit its cap', async () => {
    clock.t += 1;
    await submit(1);
    clock.t += 1;
    await submit(1);
    const capped = await new JobFold({ redis, keys, clock, graceMs: GRACE, maxScan: 1 }).read();
    expect(capped.truncated).toBe(true);
    expect(capped.scanned).toHaveLength(1);
    expect((await fold().read()).truncated).toBe(false);
  });
});
