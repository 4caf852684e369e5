import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Keys, queueName, taskJobOptions, type EffectivePolicy, type JobKind, type TaskData } from '@kumo/shared';

export interface FedTask {
  jobId: string;
  index: number;
  kind: JobKind;
  policy: EffectivePolicy;
}

/** Where the feeder puts tasks: the pool's BullMQ queue, or the simulator's in-memory queue. */
export interface TaskSink {
  /** Tasks waiting in the pool's queue, not yet taken by a worker. */
  waiting(pool: string): Promise<number>;
  add(pool: string, tasks: FedTask[]): Promise<void>;
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

  async add(pool: string, tasks: FedTask[]): Promise<void> {
    await this.queue(pool).addBulk(tasks.map((t) => ({ name: t.kind, data: { j: t.jobId, i: t.index }, opts: taskJobOptions(t.jobId, t.index, t.policy) })));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }
}
