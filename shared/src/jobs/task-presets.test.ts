import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testPrefix } from '../../../test/support/prefix';
import { jobSpecSchema } from '../catalog/index';
import { KumoError } from '../errors';
import { PoolStore } from '../pools/pool-store';
import { poolSettingsSchema } from '../pools/pool';
import type { TaskEvent } from '../progress/task-event';
import { ContributorStore } from './contributors';
import { jobViews, JobStore } from './job-store';

const spec = (batches: number, extra: Record<string, unknown> = {}) =>
  jobSpecSchema.parse({
    kind: 'extraction',
    name: 'cc',
    source: { snapshot: 'CC-MAIN-2023-50', batches },
    pool: 'local',
    run: { builtin: 'noop' },
    ...extra,
  });
const ev = (t: TaskEvent['t'], j: string, i: number, w = 'w1', extra: Partial<TaskEvent> = {}): TaskEvent => ({
  t,
  j,
  i,
  a: 1,
  w,
  at: Date.now(),
  d: 1000,
  ...extra,
});
const failure = { err: { code: 'TASK_EXIT_NONZERO', message: 'exit 1', retryable: false } };

describe('tasks preset done (skip, rerun) and who did the tasks', () => {
  let redis: Redis;
  let store: JobStore;
  let contributors: ContributorStore;
  const prefix = testPrefix('presets');

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
    store = new JobStore(redis, { prefix });
    contributors = new ContributorStore(redis, store.keys);
    await new PoolStore(redis, { prefix }).put('local', poolSettingsSchema.parse({ zones: ['local'], max: 2 }));
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('skip ranges: counted apart from the start, never counted again, the job ends when the rest are done', async () => {
    const { job } = await store.create({ spec: spec(90_000, { skip: { ranges: [[0, 30_000]] } }), user: 'alice' });
    expect(job.progress).toMatchObject({
      total: 90_000,
      skipped: 30_000,
      queued: 60_000,
      succeeded: 0,
      failed: 0,
      running: 0,
      percent: 33.3,
    });
    const rt = await store.runtime(job.id);
    expect(rt?.fed).toBe(30_000); // feeding starts past the skipped range
    // The small view /metrics reads tells the skipped from the succeeded too.
    expect((await jobViews.summary.read(redis, store.keys, job.id))?.counts).toMatchObject({
      total: 90_000,
      skipped: 30_000,
      succeeded: 0,
    });
    // A report for a skipped task (a stale copy, a bad worker) changes nothing.
    await store.applyEvents(job.id, 'local', [
      ev('s', job.id, 5),
      ev('ok', job.id, 5),
      ev('f', job.id, 6, 'w1', failure),
    ]);
    let j = (await store.get(job.id))!;
    expect(j.progress).toMatchObject({ skipped: 30_000, succeeded: 0, failed: 0, running: 0, queued: 60_000 });
    await store.applyEvents(job.id, 'local', [ev('s', job.id, 30_000), ev('ok', job.id, 30_000)]);
    j = (await store.get(job.id))!;
    const p = j.progress;
    expect(p.queued + p.running + p.succeeded + p.failed + p.skipped).toBe(p.total);
    expect(p).toMatchObject({ succeeded: 1, queued: 59_999 });
  });

  it('skip: a range past the job, or an unknown job, is a 400 with its path; a skip of everything runs nothing', async () => {
    const bad = await store
      .create({
        spec: spec(100, {
          skip: {
            ranges: [
              [0, 10],
              [50, 101],
            ],
            succeededIn: ['job_000000000000000000'],
          },
        }),
        user: 'a',
      })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(KumoError);
    expect((bad as KumoError).status).toBe(400);
    expect((bad as KumoError).issues?.map((i) => i.path)).toEqual([
      ['skip', 'ranges', 1, 1],
      ['skip', 'succeededIn', 0],
    ]);
    const all = await store
      .create({ spec: spec(100, { skip: { ranges: [[0, 100]] } }), user: 'a' })
      .catch((e: unknown) => e);
    expect((all as KumoError).issues?.[0]?.path).toEqual(['skip']);
    expect(() => jobSpecSchema.parse(spec(10, { skip: { ranges: [[5, 5]] } }))).toThrow();
  });

  it('skip succeededIn: the tasks that succeeded there, not the failed nor the unfinished ones', async () => {
    const { job: first } = await store.create({ spec: spec(20), user: 'alice' });
    await store.applyEvents(first.id, 'local', [
      ev('ok', first.id, 0),
      ev('ok', first.id, 1),
      ev('f', first.id, 2, 'w1', failure),
      ev('ok', first.id, 9),
      ev('s', first.id, 3),
    ]);
    const { job } = await store.create({
      spec: spec(20, { skip: { succeededIn: [first.id], ranges: [[15, 17]] } }),
      user: 'alice',
    });
    expect(job.progress).toMatchObject({ total: 20, skipped: 5, queued: 15 });
    for (const i of [0, 1, 9, 15, 16]) expect(await store.isTaskDone(job.id, i)).toBe(true);
    for (const i of [2, 3, 4, 17, 19]) expect(await store.isTaskDone(job.id, i)).toBe(false);
    expect((await store.runtime(job.id))?.fed).toBe(2);
  });

  it('the feed cursor steps over a run of preset tasks at once', async () => {
    const { job } = await store.create({ spec: spec(1000, { skip: { ranges: [[3, 997]] } }), user: 'alice' });
    expect((await store.runtime(job.id))?.fed).toBe(0);
    expect(await store.advanceFeed(job.id, 0, 3)).toBe(true);
    expect((await store.runtime(job.id))?.fed).toBe(997);
    expect(await store.advanceFeed(job.id, 997, 1000)).toBe(true);
    expect((await store.runtime(job.id))?.fed).toBe(1000);
  });

  it('contributors: the sums equal the job counts exactly, however often a batch is redelivered', async () => {
    const { job } = await store.create({ spec: spec(6), user: 'alice' });
    const batch = [
      ev('s', job.id, 0, 'vm-1'),
      ev('ok', job.id, 0, 'vm-1', { d: 2000 }),
      ev('s', job.id, 1, 'laptop-7', { o: 'carol' }),
      ev('ok', job.id, 1, 'laptop-7', { o: 'carol', d: 3000 }),
      ev('s', job.id, 2, 'laptop-7', { o: 'carol' }),
      ev('f', job.id, 2, 'laptop-7', { o: 'carol', ...failure }),
      ev('s', job.id, 3, 'vm-1'),
      ev('rel', job.id, 3, 'vm-1', { d: 500 }),
    ];
    for (let n = 0; n < 3; n++) await store.applyEvents(job.id, 'local', batch);
    // A late copy of task 0 on another worker: not final again, not credited.
    await store.applyEvents(job.id, 'local', [ev('ok', job.id, 0, 'laptop-7', { o: 'carol', a: 2 })]);
    const rows = await contributors.ofJob(job.id);
    expect(rows).toEqual([
      { worker: 'laptop-7', owner: 'carol', succeeded: 1, failed: 1, taskSeconds: 4 },
      { worker: 'vm-1', owner: 'local', succeeded: 1, failed: 0, taskSeconds: 2.5 },
    ]);
    const j = (await store.get(job.id))!;
    expect(rows.reduce((n, r) => n + r.succeeded, 0)).toBe(j.progress.succeeded);
    expect(rows.reduce((n, r) => n + r.failed, 0)).toBe(j.progress.failed);
    const team = await contributors.ofPools(['local'], Date.now() - 86_400_000, Date.now());
    expect(team.find((r) => r.worker === 'laptop-7')).toMatchObject({ owner: 'carol' });
  });

  it('rerun: a new job of exactly the failed (or the unfinished) tasks, at their own indices', async () => {
    const { job: first } = await store.create({
      spec: spec(10, { failurePolicy: { maxFailedTasks: 10 } }),
      user: 'alice',
    });
    await store.applyEvents(first.id, 'local', [
      ev('ok', first.id, 0),
      ev('f', first.id, 3, 'w1', failure),
      ev('f', first.id, 7, 'w1', failure),
      ev('ok', first.id, 8),
    ]);
    await store.cancel(first.id, 'test');
    const { job: failed } = await store.create({
      spec: first.spec,
      user: 'alice',
      rerun: { jobId: first.id, tasks: 'failed' },
    });
    expect(failed.rerunOf).toBe(first.id);
    expect(failed.progress).toMatchObject({ total: 2, skipped: 0, queued: 2, succeeded: 0 });
    expect((await store.runtime(failed.id))?.fed).toBe(3);
    const notDone = [];
    for (let i = 0; i < 10; i++) if (!(await store.isTaskDone(failed.id, i))) notDone.push(i);
    expect(notDone).toEqual([3, 7]);
    await store.applyEvents(failed.id, 'local', [ev('ok', failed.id, 3), ev('ok', failed.id, 7)]);
    expect((await store.get(failed.id))?.state).toBe('succeeded');

    const { job: unfinished } = await store.create({
      spec: first.spec,
      user: 'alice',
      rerun: { jobId: first.id, tasks: 'unfinished' },
    });
    expect(unfinished.progress).toMatchObject({ total: 8, queued: 8 });
    // Nothing left: every task of the first rerun succeeded.
    const none = await store
      .create({ spec: first.spec, user: 'alice', rerun: { jobId: failed.id, tasks: 'failed' } })
      .catch((e: unknown) => e);
    expect((none as KumoError).code).toBe('NOTHING_TO_RERUN');
  });
});
