import { Gauge, type Registry } from 'prom-client';
import { readDispatchLatency, type Clock, type Keys } from '@kumo/shared';
import type { Redis } from 'ioredis';
import type { PoolQueues } from '../pool-queues';
import { RedisHistogram } from './redis-histogram';

/** The pools' queues: depth, how long the oldest waiting task has waited, and dispatch latency. */
export class QueueMetrics {
  private readonly waiting: Gauge;
  private readonly delayed: Gauge;
  private readonly oldest: Gauge;
  private readonly latency: RedisHistogram;

  constructor(
    registry: Registry,
    private readonly deps: { redis: Redis; keys: Keys; queues: PoolQueues; clock: Clock },
  ) {
    const registers = [registry];
    this.waiting = new Gauge({
      name: 'kumo_queue_waiting_tasks',
      help: 'Tasks fed to the pool’s queue and not yet picked up',
      labelNames: ['pool'],
      registers,
    });
    this.delayed = new Gauge({
      name: 'kumo_queue_delayed_tasks',
      help: 'Tasks in the pool’s queue waiting out a retry backoff or a hand-back',
      labelNames: ['pool'],
      registers,
    });
    this.oldest = new Gauge({
      name: 'kumo_queue_oldest_waiting_age_seconds',
      help: 'How long the oldest waiting task of the pool has been queued (0 when none waits)',
      labelNames: ['pool'],
      registers,
    });
    this.latency = new RedisHistogram(
      'kumo_dispatch_latency_seconds',
      'Time from a task being fed to the pool’s queue to a worker starting it (first start only)',
      registry,
    );
  }

  async refresh(pools: string[]): Promise<void> {
    const now = this.deps.clock.now();
    const rows = await Promise.all(
      pools.map(async (pool) => {
        const q = this.deps.queues.forPool(pool);
        const [counts, oldest, latency] = await Promise.all([
          q.getJobCounts('wait', 'prioritized', 'delayed'),
          // Oldest first: the one at the head of the line, the one a starved pool shows first.
          q.getJobs(['wait'], 0, 0, true),
          readDispatchLatency(this.deps.redis, this.deps.keys.metricsDispatchLatency(pool)),
        ]);
        return { pool, counts, oldestAt: oldest[0]?.timestamp, latency };
      }),
    );
    for (const m of [this.waiting, this.delayed, this.oldest]) m.reset();
    const series: Parameters<RedisHistogram['set']>[0] = [];
    for (const r of rows) {
      this.waiting.set({ pool: r.pool }, (r.counts.wait ?? 0) + (r.counts.prioritized ?? 0));
      this.delayed.set({ pool: r.pool }, r.counts.delayed ?? 0);
      this.oldest.set({ pool: r.pool }, r.oldestAt === undefined ? 0 : Math.max(0, (now - r.oldestAt) / 1000));
      if (r.latency) series.push({ labels: { pool: r.pool }, snapshot: r.latency });
    }
    this.latency.set(series);
  }
}
