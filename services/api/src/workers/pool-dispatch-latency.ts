import type { Redis } from 'ioredis';
import { DispatchLatencyRecorder, type Clock, type Keys, type Logger } from '@kumo/shared';

/**
 * Dispatch latency of HTTPS-leased tasks, one recorder per pool, into the same per-pool histogram the
 * Redis-side workers feed. Apart from the lease broker: bookkeeping it feeds, not leasing.
 */
export class PoolDispatchLatency {
  private readonly latency = new Map<string, DispatchLatencyRecorder>();

  constructor(private readonly opts: { redis: Redis; keys: Keys; clock: Clock; logger: Logger }) {}

  of(pool: string): DispatchLatencyRecorder {
    let r = this.latency.get(pool);
    if (!r) {
      r = new DispatchLatencyRecorder(this.opts.redis, this.opts.keys.metricsDispatchLatency(pool), {
        clock: this.opts.clock,
        onError: (err) => this.opts.logger.warn({ err }, 'dispatch latency not recorded'),
      });
      this.latency.set(pool, r);
    }
    return r;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.latency.values()].map((r) => r.close()));
  }
}
