import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testPrefix } from '../../../test/support/prefix';
import { jobSpecSchema } from '../catalog/index';
import { KumoError } from '../errors';
import { PoolStore } from '../pools/pool-store';
import { poolSettingsSchema } from '../pools/pool';
import type { TaskEvent } from '../progress/task-event';
import { JobStore } from './job-store';

const spec = (batches: number, extra: Record<string, unknown> = {}) =>
  jobSpecSchema.parse({
    kind: 'extraction',
    name: 'cc',
    source: { snapshot: 'CC-MAIN-2023-50', batches },
    pool: 'local',
    run: { builtin: 'noop' },
    ...extra,
  });
const ev = (t: TaskEvent['t'], j: string, i: number, a = 1, w = 'w1'): TaskEvent => ({ t, j, i, a, w, at: Date.now() });

describe('JobStore', () => {
  let redis: Redis;
  let store: JobStore;
  const prefix = testPrefix('jobstore');

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'));
    store = new JobStore(redis, { prefix });
    await new PoolStore(redis, { prefix }).put('local', poolSettingsSchema.parse({ zones: ['local'], max: 2 }));
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('creates a 90,000-task job as one record, O(1) keys', async () => {
    await store.create({ spec: spec(1), user: 'alice' });
    const before = (await redis.keys(`${prefix}:*`)).length;
    const { job, created } = await store.create({ spec: spec(90_000), user: 'alice' });
    expect(created).toBe(true);
    expect(job.progress).toMatchObject({
      total: 90_000,
      queued: 90_000,
      running: 0,
      succeeded: 0,
      failed: 0,
      unit: 'batches',
    });
    expect(job.state).toBe('queued');
    const after = (await redis.keys(`${prefix}:*`)).length;
    expect(after - before).toBe(1); // the job hash; the index and the pool's active set exist already
  });

  it('counts a task once, whatever is redelivered or re-reported', async () => {
    const { job } = await store.create({ spec: spec(3), user: 'alice' });
    const batch = [ev('s', job.id, 0), ev('s', job.id, 1), ev('ok', job.id, 0)];
    await store.applyEvents(job.id, 'local', batch);
    await store.applyEvents(job.id, 'local', batch); // redelivered
    await store.applyEvents(job.id, 'local', [ev('ok', job.id, 0, 2, 'w2')]); // a retried attempt re-reports
    let j = (await store.get(job.id))!;
    expect(j.progress).toMatchObject({ total: 3, succeeded: 1, running: 1, queued: 1, failed: 0 });
    expect(j.state).toBe('running');
    // A late "started" of an old attempt after the retry was scheduled must not count as running.
    await store.applyEvents(job.id, 'local', [ev('r', job.id, 1, 1), ev('s', job.id, 1, 2), ev('s', job.id, 1, 1)]);
    j = (await store.get(job.id))!;
    expect(j.progress).toMatchObject({ running: 1, queued: 1 });
    await store.applyEvents(job.id, 'local', [ev('ok', job.id, 1, 2), ev('s', job.id, 2), ev('ok', job.id, 2)]);
    j = (await store.get(job.id))!;
    expect(j.progress).toMatchObject({ total: 3, succeeded: 3, running: 0, queued: 0, failed: 0, etaSeconds: 0 });
    expect(j.state).toBe('succeeded');
    expect(j.finishedAt).toBeDefined();
  });

  it('fails the job once more tasks failed than the policy allows, keeping the error', async () => {
    const { job } = await store.create({ spec: spec(5), user: 'alice' });
    const f: TaskEvent = {
      ...ev('f', job.id, 2, 3),
      err: { code: 'TASK_EXIT_NONZERO', message: 'exit 3', retryable: true },
      log: 'boom\n',
    };
    await store.applyEvents(job.id, 'local', [ev('s', job.id, 2, 3), f, f]);
    const j = (await store.get(job.id))!;
    expect(j.state).toBe('failed');
    expect(j.reason).toBe('TOO_MANY_FAILED_TASKS');
    expect(j.progress).toMatchObject({ failed: 1, queued: 4, running: 0 });
    const failures = await store.ledger.failures(job.id);
    expect(failures).toEqual([expect.objectContaining({ index: 2, attempt: 3, final: true, logTail: 'boom\n' })]);
    expect(failures[0]!.error.code).toBe('TASK_EXIT_NONZERO');
  });

  it('quarantines a task that failed on two different workers, keeping each error', async () => {
    const { job } = await store.create({
      spec: spec(4, { retry: { maxAttempts: 10 }, failurePolicy: { maxFailedTasks: 4 } }),
      user: 'alice',
    });
    const err = { code: 'TASK_EXIT_NONZERO', message: 'exit 1', retryable: true };
    await store.applyEvents(job.id, 'local', [ev('s', job.id, 1, 1, 'w1'), { ...ev('r', job.id, 1, 1, 'w1'), err }]);
    await store.applyEvents(job.id, 'local', [ev('s', job.id, 1, 2, 'w1'), { ...ev('r', job.id, 1, 2, 'w1'), err }]);
    let j = (await store.get(job.id))!;
    expect(j.progress).toMatchObject({ failed: 0, running: 0 }); // the same worker twice: maybe the machine
    await store.applyEvents(job.id, 'local', [ev('s', job.id, 1, 3, 'w2'), { ...ev('r', job.id, 1, 3, 'w2'), err }]);
    j = (await store.get(job.id))!;
    expect(j.progress).toMatchObject({ failed: 1, running: 0, queued: 3 });
    const [f] = await store.ledger.failures(job.id);
    expect(f).toMatchObject({ index: 1, attempt: 3, final: true, quarantined: true, workers: ['w1', 'w2'] });
    expect(await store.isTaskDone(job.id, 1)).toBe(true);
    // A later attempt's success does not count: the task is final.
    await store.applyEvents(job.id, 'local', [ev('ok', job.id, 1, 4, 'w3')]);
    expect((await store.get(job.id))!.progress).toMatchObject({ failed: 1, succeeded: 0 });
  });

  it('keeps the furthest checkpoint and the latest in-task progress', async () => {
    const { job } = await store.create({ spec: spec(1), user: 'alice' });
    const c = (step: number): TaskEvent => ({ ...ev('c', job.id, 0), data: { step, uri: `/ck/${step}` } });
    await store.applyEvents(job.id, 'local', [
      ev('s', job.id, 0),
      c(100),
      c(300),
      c(200),
      { ...ev('p', job.id, 0), data: { step: 310 } },
    ]);
    expect(await store.checkpoint(job.id)).toMatchObject({ step: 300, uri: '/ck/300' });
    const j = (await store.get(job.id))!;
    expect(j.liveProgress).toMatchObject({ step: 310 });
    expect(j.checkpoint).toMatchObject({ step: 300 });
  });

  it('returns the same job for a repeated idempotency key and refuses the key for another body', async () => {
    const a = await store.create({ spec: spec(10), user: 'bob', idempotencyKey: 'k1' });
    const b = await store.create({ spec: spec(10), user: 'bob', idempotencyKey: 'k1' });
    expect(b.created).toBe(false);
    expect(b.job.id).toBe(a.job.id);
    await expect(store.create({ spec: spec(11), user: 'bob', idempotencyKey: 'k1' })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
  });

  describe('a listing job (source.listing): its lines in a list beside the job', () => {
    const listingSpec = (lines: string[], extra: Record<string, unknown> = {}) =>
      jobSpecSchema.parse({
        kind: 'extraction',
        name: 'listed',
        source: { snapshot: 'S', listing: 'warc.paths', batches: lines.length },
        pool: 'local',
        run: { builtin: 'noop' },
        ...extra,
      });
    const listingKeys = async (): Promise<string[]> => (await redis.keys(`${prefix}:job:*:listing`)).sort();
    const lines = Array.from(
      { length: 25_003 },
      (_, i) => `crawl-data/S/segments/1/warc/f-${String(i).padStart(5, '0')}.warc.gz`,
    );

    it('stores every line in order (more than one RPUSH chunk) and serves any slice of them', async () => {
      const { job } = await store.create({ spec: listingSpec(lines), user: 'alice', listing: lines });
      expect(job.progress.total).toBe(25_003);
      expect(await redis.llen(store.keys.jobListing(job.id))).toBe(25_003);
      expect(await store.listedInputs(job.id, 0, 2)).toEqual(lines.slice(0, 2));
      expect(await store.listedInputs(job.id, 9_999, 10_001)).toEqual(lines.slice(9_999, 10_001));
      expect(await store.listedInputs(job.id, 25_002, 25_003)).toEqual([lines[25_002]]);
      await expect(store.listedInputs(job.id, 25_002, 25_004)).rejects.toMatchObject({ code: 'TASK_INVALID' });
      await expect(store.listedInputs('job_00000000000000nope', 0, 1)).rejects.toMatchObject({ code: 'TASK_INVALID' });
    });

    it('leaves no list behind when the job is refused (no such pool)', async () => {
      const before = await listingKeys();
      await expect(
        store.create({
          spec: listingSpec(lines.slice(0, 3), { pool: 'nowhere' }),
          user: 'alice',
          listing: lines.slice(0, 3),
        }),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      expect(await listingKeys()).toEqual(before);
    });

    it("an Idempotency-Key repeat, one after the other or at once, stores one list: the first job's", async () => {
      const three = lines.slice(0, 3);
      const submitted = { ...listingSpec(three), source: { snapshot: 'S', listing: 'warc.paths' } };
      const before = await listingKeys();
      const a = await store.create({
        spec: listingSpec(three),
        user: 'bob',
        idempotencyKey: 'lk1',
        listing: three,
        fingerprintOf: submitted,
      });
      const b = await store.create({
        spec: listingSpec(three),
        user: 'bob',
        idempotencyKey: 'lk1',
        listing: three,
        fingerprintOf: submitted,
      });
      expect([a.created, b.created, b.job.id]).toEqual([true, false, a.job.id]);
      expect(await listingKeys()).toEqual([...before, store.keys.jobListing(a.job.id)].sort());
      expect((await store.findIdempotent('bob', 'lk1', submitted))?.id).toBe(a.job.id);
      await expect(store.findIdempotent('bob', 'lk1', { ...submitted, name: 'other' })).rejects.toMatchObject({
        code: 'IDEMPOTENCY_KEY_REUSED',
      });
      expect(await store.findIdempotent('bob', 'unused', submitted)).toBeUndefined();

      const racing = await Promise.all(
        [1, 2, 3, 4].map(() =>
          store.create({
            spec: listingSpec(three),
            user: 'bob',
            idempotencyKey: 'lk2',
            listing: three,
            fingerprintOf: submitted,
          }),
        ),
      );
      const winner = racing.filter((r) => r.created);
      expect(winner).toHaveLength(1);
      expect(new Set(racing.map((r) => r.job.id))).toEqual(new Set([winner[0]!.job.id]));
      expect(await listingKeys()).toEqual(
        [...before, store.keys.jobListing(a.job.id), store.keys.jobListing(winner[0]!.job.id)].sort(),
      );
      expect(await store.listedInputs(winner[0]!.job.id, 0, 3)).toEqual(three);
    });
  });

  it('cancels once, then answers 409 with a stable code', async () => {
    const { job } = await store.create({ spec: spec(10), user: 'bob' });
    expect((await store.cancel(job.id, 'by bob')).state).toBe('cancelled');
    const err = await store.cancel(job.id, 'again').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KumoError);
    expect((err as KumoError).code).toBe('JOB_ALREADY_FINISHED');
  });

  it('pages newest first with a cursor and filters', async () => {
    const p = testPrefix('paging');
    const s = new JobStore(redis, { prefix: p });
    await new PoolStore(redis, { prefix: p }).put('local', poolSettingsSchema.parse({ zones: ['local'], max: 1 }));
    const ids: string[] = [];
    for (let n = 0; n < 7; n++) ids.push((await s.create({ spec: spec(1 + n), user: n % 2 ? 'odd' : 'even' })).job.id);
    const page1 = await s.list({ limit: 3 });
    expect(page1.jobs.map((j) => j.id)).toEqual(ids.slice(-3).reverse());
    const page2 = await s.list({ limit: 3, cursor: page1.nextCursor! });
    expect(page2.jobs.map((j) => j.id)).toEqual(ids.slice(1, 4).reverse());
    const page3 = await s.list({ limit: 3, cursor: page2.nextCursor! });
    expect(page3.jobs.map((j) => j.id)).toEqual([ids[0]]);
    expect(page3.nextCursor).toBeNull();
    const odd = await s.list({ limit: 10, user: 'odd' });
    expect(odd.jobs).toHaveLength(3);
    const keys = await redis.keys(`${p}:*`);
    await redis.del(...keys);
  });
});
