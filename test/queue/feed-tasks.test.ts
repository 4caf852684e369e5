import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  addTaskRange,
  effectivePolicy,
  jobSpecSchema,
  taskJobOptions,
  type EffectivePolicy,
  type TaskData,
} from '@kumo/shared';
import { deleteKeys, testPrefix } from '../support/prefix';

/**
 * The feed script writes BullMQ's own layout by hand (shared/src/store/lua/feedTasks-8.lua). These
 * tests hold it to what BullMQ's addBulk writes for the same tasks, field by field, so a BullMQ upgrade
 * that changes its layout fails here, not in production.
 */
const redisUrl = inject('redisUrl');
const QUEUE = 'tasks-conformance';
const base = effectivePolicy(
  jobSpecSchema.parse({
    kind: 'extraction',
    name: 'x',
    source: { snapshot: 'S', batches: 1 },
    pool: 'local',
    run: { builtin: 'noop' },
  }),
);
const policy: EffectivePolicy = { ...base, maxAttempts: 3, backoffMs: 10 };
/** A done bitmap never written: no task is final. */
const NOTHING_DONE = 'feed-tasks-test:no-job:done';

let redis: Redis;
const prefixes: string[] = [];

beforeAll(() => {
  redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  for (const p of prefixes) await deleteKeys(p);
  await redis.quit();
});

function queueAt(prefix: string): Queue<TaskData> {
  prefixes.push(prefix);
  return new Queue<TaskData>(QUEUE, { connection: redis, prefix });
}

async function addWithBullmq(q: Queue<TaskData>, jobId: string, from: number, to: number): Promise<void> {
  const jobs = [];
  for (let i = from; i < to; i++)
    jobs.push({ name: 'extraction', data: { j: jobId, i }, opts: taskJobOptions(jobId, i, policy) });
  await q.addBulk(jobs);
}

/** Everything a queue holds in Redis, with what differs by nature (times, stream ids) taken out. */
async function snapshot(q: Queue<TaskData>, jobId: string, count: number): Promise<Record<string, unknown>> {
  const jobs: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const h = await redis.hgetall(q.toKey(`${jobId}.${i}`));
    expect(Number(h.timestamp)).toBeGreaterThan(0);
    jobs.push({ ...h, timestamp: 'ts', opts: JSON.parse(h.opts ?? 'null') as unknown });
  }
  const events = (await redis.xrange(q.keys.events!, '-', '+')).map(([, fields]) => fields);
  return {
    jobs,
    wait: await redis.lrange(q.keys.wait!, 0, -1),
    paused: await redis.lrange(q.keys.paused!, 0, -1),
    marker: await redis.zrange(q.keys.marker!, 0, -1, 'WITHSCORES'),
    meta: await redis.hgetall(q.keys.meta!),
    id: await redis.get(q.keys.id!),
    events,
  };
}

describe('feeding tasks in Redis (feedTasks-8.lua)', () => {
  it('writes what BullMQ addBulk writes: job hashes, wait list order, marker, meta, id counter, events', async () => {
    const viaBullmq = queueAt(testPrefix('conf-bull'));
    const viaScript = queueAt(testPrefix('conf-kumo'));
    // 1,200 tasks: more than one script call (500 a call), and a second range after the first.
    await addWithBullmq(viaBullmq, 'job1', 0, 700);
    await addWithBullmq(viaBullmq, 'job1', 700, 1200);
    expect(
      await addTaskRange(redis, viaScript, {
        jobId: 'job1',
        from: 0,
        to: 700,
        name: 'extraction',
        policy,
        timestamp: Date.now(),
        done: NOTHING_DONE,
      }),
    ).toBe(700);
    expect(
      await addTaskRange(redis, viaScript, {
        jobId: 'job1',
        from: 700,
        to: 1200,
        name: 'extraction',
        policy,
        timestamp: Date.now(),
        done: NOTHING_DONE,
      }),
    ).toBe(500);
    const expected = await snapshot(viaBullmq, 'job1', 1200);
    expect((expected.wait as string[]).length).toBe(1200);
    expect(await snapshot(viaScript, 'job1', 1200)).toEqual(expected);
  });

  it("adds no task already final in the job's done bitmap (skipped, or left out of a rerun)", async () => {
    const prefix = testPrefix('conf-done');
    const q = queueAt(prefix);
    const done = `${prefix}:kumo-job:done`;
    for (const i of [0, 1, 2, 7]) await redis.setbit(done, i, 1);
    expect(
      await addTaskRange(redis, q, {
        jobId: 'job9',
        from: 0,
        to: 10,
        name: 'extraction',
        policy,
        timestamp: Date.now(),
        done,
      }),
    ).toBe(6);
    expect((await redis.lrange(q.keys.wait!, 0, -1)).sort()).toEqual([
      'job9.3',
      'job9.4',
      'job9.5',
      'job9.6',
      'job9.8',
      'job9.9',
    ]);
    expect(await redis.get(q.keys.id!)).toBe('6');
  });

  it('adds nothing for tasks still in the queue, as BullMQ leaves a duplicate id alone', async () => {
    const q = queueAt(testPrefix('conf-dup'));
    await addTaskRange(redis, q, {
      jobId: 'job2',
      from: 0,
      to: 10,
      name: 'extraction',
      policy,
      timestamp: Date.now(),
      done: NOTHING_DONE,
    });
    expect(
      await addTaskRange(redis, q, {
        jobId: 'job2',
        from: 5,
        to: 15,
        name: 'extraction',
        policy,
        timestamp: Date.now(),
        done: NOTHING_DONE,
      }),
    ).toBe(5);
    expect(await q.getWaitingCount()).toBe(15);
  });

  it('puts tasks on the paused list, without waking workers, when the queue is paused, as BullMQ does', async () => {
    const viaBullmq = queueAt(testPrefix('conf-pbull'));
    const viaScript = queueAt(testPrefix('conf-pkumo'));
    await viaBullmq.pause();
    await viaScript.pause();
    await addWithBullmq(viaBullmq, 'job3', 0, 20);
    await addTaskRange(redis, viaScript, {
      jobId: 'job3',
      from: 0,
      to: 20,
      name: 'extraction',
      policy,
      timestamp: Date.now(),
      done: NOTHING_DONE,
    });
    const expected = await snapshot(viaBullmq, 'job3', 20);
    expect((expected.paused as string[]).length).toBe(20);
    expect(await snapshot(viaScript, 'job3', 20)).toEqual(expected);
  });

  it('makes tasks a real BullMQ Worker runs in order, retrying with the attempts and backoff of the policy', async () => {
    const prefix = testPrefix('conf-run');
    const q = queueAt(prefix);
    await addTaskRange(redis, q, {
      jobId: 'job4',
      from: 0,
      to: 600,
      name: 'extraction',
      policy,
      timestamp: Date.now(),
      done: NOTHING_DONE,
    });
    const seen: { i: number; attempt: number; name: string; attempts: number | undefined }[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const conn = new Redis(redisUrl, { maxRetriesPerRequest: null });
    let completed = 0;
    const worker = new Worker<TaskData>(
      QUEUE,
      async (job: Job<TaskData>) => {
        seen.push({ i: job.data.i, attempt: job.attemptsMade + 1, name: job.name, attempts: job.opts.attempts });
        // Task 7 fails twice and passes on its third (last) attempt.
        if (job.data.i === 7 && job.attemptsMade < 2) throw new Error('flaky');
        return 'ok';
      },
      { connection: conn, prefix, concurrency: 1 },
    );
    worker.on('completed', () => {
      if (++completed === 600) done();
    });
    try {
      await finished;
    } finally {
      await worker.close();
      await conn.quit();
    }
    const firsts = seen.filter((s) => s.attempt === 1).map((s) => s.i);
    expect(firsts).toEqual(Array.from({ length: 600 }, (_, i) => i));
    expect(seen.filter((s) => s.i === 7).map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(new Set(seen.map((s) => s.name))).toEqual(new Set(['extraction']));
    expect(new Set(seen.map((s) => s.attempts))).toEqual(new Set([3]));
    // removeOnComplete: nothing of the tasks is left behind.
    expect(await redis.exists(q.toKey('job4.7'))).toBe(0);
  });
});
