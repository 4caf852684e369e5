import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { addTaskRange, Keys, queueName, type EffectivePolicy, type JobKind, type TaskData } from '@kumo/shared';

export interface FedTask {
  jobId: string;
  index: number;
  kind: JobKind;
  policy: EffectivePolicy;
}

/** Tasks [from, to) of one job: what the feeder hands the queue at once. */
export interface FedRange {
  jobId: string;
  from: number;
  to: number;
  kind: JobKind;
  policy: EffectivePolicy;
  /** Ahead of every task waiting: a job that preempts lower priorities must get the slots it frees. */
  front?: boolean;
}

/** Where the feeder puts tasks: the pool's BullMQ queue, or the simulator's in-memory queue. */
export interface TaskSink {
  /** Tasks waiting in the pool's queue, not yet taken by a worker. */
  waiting(pool: string): Promise<number>;
  /** Adds the range; returns how many tasks were new (one still in the queue is not added twice). */
  add(pool: string, range: FedRange): Promise<number>;
  close(): Promise<void>;
}

export class BullTaskSink implements TaskSink {
  private readonly queues = new Map<string, Queue<TaskData>>();
  private readonly keys: Keys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = new Keys(prefix);
  }

  private queue(pool: string): Queue<TaskData> {
    let q = this.queues.get(pool);
    if (!q) {
      q = new Queue<TaskData>(queueName(pool), { connection: this.redis, prefix: this.keys.queuePrefix() });
      this.queues.set(pool, q);
    }
    return q;
  }

  waiting(pool: string): Promise<number> {
    return this.queue(pool).getWaitingCount();
  }

  add(pool: string, r: FedRange): Promise<number> {
    return addTaskRange(this.redis, this.queue(pool), {
      jobId: r.jobId,
      from: r.from,
      to: r.to,
      name: r.kind,
      policy: r.policy,
      timestamp: Date.now(),
      done: this.keys.jobDone(r.jobId),
      ...(r.front ? { front: true } : {}),
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }
}
