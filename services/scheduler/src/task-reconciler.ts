import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  isTerminal,
  JobSpecCache,
  jobViews,
  Keys,
  queueName,
  taskJobOptions,
  taskLockKey,
  taskQueueId,
  type Bus,
  type CachedJob,
  type Clock,
  type JobStore,
  type Logger,
  type TaskData,
  type TaskEvent,
} from '@kumo/shared';

export interface TaskReconcilerOptions {
  redis: Redis;
  prefix: string;
  jobs: JobStore;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  /**
   * The longest task lock any worker of the fleet takes (agents' KUMO_TASK_LOCK_MS, the API's HTTPS
   * lease). A task is acted on once it has been seen lost for this long: a worker that finished it has
   * reported by then, and a queue move in flight has landed.
   */
  lockMs: number;
  /** The scheduler's one cache of job specs (its state read on every get); alone (tests), its own. */
  specs?: JobSpecCache;
}

/** How long the reconciler remembers a task's losses after the last one. */
const LOST_TTL_S = 7 * 24 * 3600;
/** Queue entries checked per round trip. */
const CHUNK = 1000;

/**
 * Finds tasks the queue has lost: fed (or counted running) and not final, yet with no entry in their
 * pool's BullMQ queue and no lock held on one. Nothing would ever run or end them, and their job would
 * wait for them forever. Seen so twice, `lockMs` apart, each is given back (an infrastructure loss: fed
 * again, its place in the running count released) or, past its job's `maxInfraRetries`, failed for
 * good with an event, so the job's counts stay exact. Runs on the leading scheduler only.
 */
export class TaskReconciler {
  private readonly keys: Keys;
  private readonly specs: JobSpecCache;
  private readonly queues = new Map<string, Queue<TaskData>>();
  /** When each task (`jobId.index`) was first seen lost, per pool; forgotten once seen in order. */
  private readonly lostSince = new Map<string, Map<string, number>>();
  /** Tasks given back or failed, for tests and logs. */
  readonly stats = { givenBack: 0, failed: 0 };

  constructor(private readonly o: TaskReconcilerOptions) {
    this.keys = new Keys(o.prefix);
    this.specs = o.specs ?? new JobSpecCache(o.jobs, { clock: o.clock, stateTtlMs: 0 });
  }

  /** One pass over a pool's live jobs; returns how many tasks it gave back or failed. */
  async reconcile(pool: string): Promise<number> {
    const before = this.lostSince.get(pool) ?? new Map<string, number>();
    const seen = new Map<string, number>();
    const now = this.o.clock.now();
    let acted = 0;
    for (const jobId of await this.o.jobs.activeJobIds(pool)) {
      const job = await this.specs.get(jobId);
      if (!job || isTerminal(job.state)) continue;
      for (const index of await this.lostTasks(pool, jobId)) {
        const key = taskQueueId(jobId, index);
        const since = before.get(key) ?? now;
        if (now - since < this.o.lockMs) {
          seen.set(key, since);
          continue;
        }
        await this.recover(pool, job, index);
        acted++;
      }
    }
    this.lostSince.set(pool, seen);
    return acted;
  }

  /** The job's tasks that are fed and not final, yet have neither a queue entry nor a lock. */
  private async lostTasks(pool: string, jobId: string): Promise<number[]> {
    const fed = (await jobViews.counts.read(this.o.redis, this.keys, jobId))?.fed ?? 0;
    if (fed === 0) return [];
    // From the first task not final on: a job's tasks mostly end in order, so what is read stays near
    // the window in flight, not the millions of tasks before it.
    const doneKey = this.keys.jobDone(jobId);
    const first = Math.max(0, await this.o.redis.bitpos(doneKey, 0));
    if (first >= fed) return [];
    const fromByte = first >> 3;
    const done = await this.o.redis.getrangeBuffer(doneKey, fromByte, Math.ceil(fed / 8) - 1);
    const open: number[] = [];
    for (let i = first; i < fed; i++) if (((done[(i >> 3) - fromByte] ?? 0) & (0x80 >> (i & 7))) === 0) open.push(i);
    const queue = this.queue(pool);
    const lost: number[] = [];
    for (let n = 0; n < open.length; n += CHUNK) {
      const part = open.slice(n, n + CHUNK);
      const pipe = this.o.redis.pipeline();
      for (const i of part)
        pipe.exists(queue.toKey(taskQueueId(jobId, i)), taskLockKey(this.keys, queueName(pool), taskQueueId(jobId, i)));
      const res = (await pipe.exec()) ?? [];
      part.forEach((i, k) => {
        if (res[k]?.[0] === null && res[k]?.[1] === 0) lost.push(i);
      });
    }
    return lost;
  }

  /**
   * Gives a lost task back or fails it. Its place in the running count (if an attempt of it was counted
   * started) is released first, and the event is on the bus before the task is in the queue again, so
   * the new delivery's start is never taken out by it.
   */
  private async recover(pool: string, job: CachedJob, index: number): Promise<void> {
    const running = await this.o.redis.hget(this.keys.jobRunning(job.id), String(index));
    const attempt = running ? Number(running.split('|')[0]) : 1;
    const lostKey = this.keys.jobLost(job.id);
    const losses = await this.o.redis.hincrby(lostKey, String(index), 1);
    await this.o.redis.expire(lostKey, LOST_TTL_S);
    const base = { j: job.id, i: index, a: attempt, w: 'reconciler', at: this.o.clock.now() };
    const log = this.o.logger.child({ jobId: job.id, index, losses });
    if (losses > job.policy.maxInfraRetries) {
      const err = {
        code: 'INFRA_BUDGET_EXHAUSTED',
        message: `lost from the queue ${losses} times (budget ${job.policy.maxInfraRetries})`,
        retryable: false,
      };
      await this.publish({ ...base, t: 'f', err });
      this.stats.failed++;
      log.warn('task lost from the queue past its budget: failed');
      return;
    }
    if (running) await this.publish({ ...base, t: 'rel' });
    await this.queue(pool).add(
      job.spec.kind,
      { j: job.id, i: index, h: losses },
      taskJobOptions(job.id, index, job.policy),
    );
    this.stats.givenBack++;
    log.warn('task lost from the queue: fed again');
  }

  private publish(e: TaskEvent): Promise<unknown> {
    return this.o.bus.publish('progress', { workerId: 'reconciler', events: [e] });
  }

  private queue(pool: string): Queue<TaskData> {
    let q = this.queues.get(pool);
    if (!q) {
      q = new Queue<TaskData>(queueName(pool), { connection: this.o.redis, prefix: this.keys.queuePrefix() });
      this.queues.set(pool, q);
    }
    return q;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }
}
