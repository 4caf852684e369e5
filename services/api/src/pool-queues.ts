import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueName, type Keys } from '@kumo/shared';

/**
 * The pools' BullMQ queues as the API reads them (metrics, the admin board), one Queue object per name,
 * on the API's command connection: the API only reads and administers, it never blocks on a queue.
 */
export class PoolQueues {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** The pool's task queue. */
  forPool(pool: string): Queue {
    return this.byName(queueName(pool));
  }

  /** Any queue under kumo's BullMQ prefix (`simulations`, ...). */
  byName(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) this.queues.set(name, (q = new Queue(name, { connection: this.redis, prefix: this.keys.queuePrefix() })));
    return q;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
  }
}
