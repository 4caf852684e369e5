import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis, queueName, queueWorkerTiming, type Keys, type Logger, type TaskData } from '@kumo/shared';

/**
 * The lease broker's BullMQ workers, one per pool, on a connection of their own: they take tasks by hand
 * for the HTTPS workers and run the stall check that puts lapsed leases back. Apart from the broker: what
 * it opens and closes, not what it decides.
 */
export class LeaseQueueWorkers {
  private readonly connection: Redis;
  private readonly workers = new Map<string, Worker<TaskData>>();

  constructor(private readonly opts: { redisUrl: string; keys: Keys; leaseMs: number; logger: Logger }) {
    // Not auto-pipelined (see app.ts): ioredis's auto-pipeline threw an uncaught exception under load.
    this.connection = createRedis(opts.redisUrl, 'blocking', 'lease-broker', { logger: opts.logger });
  }

  worker(pool: string): Worker<TaskData> {
    let w = this.workers.get(pool);
    if (!w) {
      // No processor: tasks are taken by hand (getNextJob) for the HTTPS workers.
      w = new Worker<TaskData>(queueName(pool), null, {
        connection: this.connection,
        prefix: this.opts.keys.queuePrefix(),
        // The lease is the lock; a worker lost holding it is a stall, counted as the agents count it.
        ...queueWorkerTiming(this.opts.leaseMs),
        autorun: false,
      });
      w.on('error', (err) => this.opts.logger.warn({ err, pool }, 'lease worker error'));
      // Leases that stop being renewed go back to the queue: the stall check does that.
      void w.startStalledCheckTimer();
      this.workers.set(pool, w);
    }
    return w;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.workers.values()].map((w) => w.close()));
    this.connection.disconnect();
  }
}
