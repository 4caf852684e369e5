import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { Scheduler } from '@kumo/scheduler';
import { WorkerAgent } from '@kumo/worker';
import {
  createBus,
  createLogger,
  JobStore,
  jobSpecSchema,
  Keys,
  LOCAL_POOL_DEFAULTS,
  PoolStore,
  poolSettingsSchema,
  queueName,
  taskQueueId,
  wallClock,
  type Bus,
  type TaskData,
} from '@kumo/shared';
import { deleteKeys, testPrefix } from '../support/prefix';
import { waitFor } from '../support/wait';
import { taskHost } from '../support/task-host';

const logger = createLogger({ name: 'reconciler', level: process.env.LOG_LEVEL ?? 'error' });
/** Short, so a lost task is found in seconds; not so short that a loaded machine loses a lock it holds. */
const LOCK_MS = 3000;

/**
 * A task the queue lost (its BullMQ entry deleted: by hand, by a Redis failover that lost a write, by
 * BullMQ itself) is one nothing would ever run or end: its job would wait for it forever. The leading
 * scheduler's reconciler finds it within twice the lock time and feeds it again, or fails it past its
 * job's infrastructure budget, with the event that keeps the counts exact.
 */
describe('a task lost from its queue', () => {
  const prefix = testPrefix('reconcile');
  let redis: Redis;
  let bus: Bus;
  let scheduler: Scheduler;
  let agent: WorkerAgent;
  let jobs: JobStore;
  let queue: Queue<TaskData>;

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    await new PoolStore(redis, { prefix }).ensure(
      'local',
      poolSettingsSchema.parse({ ...LOCAL_POOL_DEFAULTS, max: 0 }),
    );
    bus = await createBus({ kind: 'redis', redisUrl: inject('redisUrl'), prefix, logger });
    scheduler = new Scheduler({
      redisUrl: inject('redisUrl'),
      prefix,
      bus,
      clock: wallClock,
      logger,
      taskLockMs: LOCK_MS,
    });
    await scheduler.start();
    jobs = new JobStore(redis, { prefix });
    queue = new Queue<TaskData>(queueName('local'), { connection: redis, prefix: new Keys(prefix).queuePrefix() });
  });
  afterAll(async () => {
    await scheduler.stop();
    await queue.close();
    await bus.close();
    await redis.quit();
    await deleteKeys(prefix);
  });

  /** A 4-task job, fed whole with no worker to take it; then task 2's queue entry is deleted. */
  const submitAndLoseTask2 = async (retry: Record<string, number> = {}): Promise<string> => {
    const spec = jobSpecSchema.parse({
      kind: 'extraction',
      name: 'lost',
      source: { snapshot: 'S', batches: 4 },
      pool: 'local',
      run: { builtin: 'noop' },
      retry,
    });
    const { job } = await jobs.create({ spec, user: 'alice' });
    await waitFor(async () => (await redis.hget(new Keys(prefix).job(job.id), 'fed')) === '4' || undefined, {
      what: 'the job fed',
    });
    expect(await queue.remove(taskQueueId(job.id, 2))).toBe(1);
    return job.id;
  };
  /** A worker for this test only: none may take a task before the test has lost one. */
  const startWorker = async (): Promise<void> => {
    const a = (agent = new WorkerAgent({
      redisUrl: inject('redisUrl'),
      prefix,
      bus,
      pool: 'local',
      id: testPrefix('w'),
      slots: 2,
      lockMs: LOCK_MS,
      drainMs: 200,
      heartbeatMs: 500,
      ...taskHost(),
      clock: wallClock,
      logger,
    }));
    onTestFinished(() => a.stop({ handBackNow: true }));
    await a.start();
  };
  const ended = (id: string) =>
    waitFor(
      async () => {
        const j = await jobs.get(id);
        return j && ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
      },
      { timeoutMs: 30_000, what: `job ${id} to end` },
    );

  it('is fed again and runs: the job ends succeeded with exact counts', async () => {
    const id = await submitAndLoseTask2();
    await startWorker();
    const job = await ended(id);
    expect(job.state).toBe('succeeded');
    expect(job.progress).toMatchObject({ total: 4, succeeded: 4, failed: 0, running: 0, queued: 0 });
    expect(scheduler.reconciler.stats.givenBack).toBeGreaterThanOrEqual(1);
    expect(agent.stats.succeeded).toBe(4);
  });

  it('counted running when it was lost: its place is released (a hand-back) and it runs again; the counts stay exact', async () => {
    const id = await submitAndLoseTask2();
    // A worker had started task 2 and reported so, then vanished with it and its queue entry.
    await jobs.applyEvents(id, 'local', [{ t: 's', j: id, i: 2, a: 1, w: 'ghost', at: Date.now() }]);
    expect((await jobs.get(id))!.progress.running).toBe(1);
    await startWorker();
    const job = await ended(id);
    expect(job.state).toBe('succeeded');
    expect(job.progress).toMatchObject({ total: 4, succeeded: 4, failed: 0, running: 0, queued: 0 });
    expect(job.handBacks).toBe(1);
  });

  it('past its job’s maxInfraRetries it fails for good, with an event: the job ends failed, its counts exact', async () => {
    const id = await submitAndLoseTask2({ maxInfraRetries: 0 });
    await startWorker();
    const job = await ended(id);
    expect(job.state).toBe('failed');
    expect(job.progress).toMatchObject({ total: 4, succeeded: 3, failed: 1, running: 0, queued: 0 });
    const [failure] = await jobs.ledger.failures(id);
    expect(failure).toMatchObject({ index: 2, final: true, error: { code: 'INFRA_BUDGET_EXHAUSTED' } });
  });
});
