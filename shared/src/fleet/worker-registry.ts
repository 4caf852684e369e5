import type { Redis } from 'ioredis';
import { wallClock, type Clock } from '../clock';
import { Keys } from '../store/keys';

/** What a worker says about itself every few seconds. Gone after `ttlMs` without a heartbeat. */
export interface WorkerHeartbeat {
  id: string;
  pool: string;
  slots: number;
  running: number;
  /** Since when the worker has had no task, ms; undefined while busy. */
  idleSince?: number;
  lastSeen: number;
  state: 'running' | 'draining';
}

export class WorkerRegistry {
  private readonly keys: Keys;
  private readonly clock: Clock;

  constructor(
    private readonly redis: Redis,
    opts: { prefix?: string; clock?: Clock; ttlMs?: number } = {},
  ) {
    this.keys = new Keys(opts.prefix);
    this.clock = opts.clock ?? wallClock;
    this.ttlMs = opts.ttlMs ?? 30_000;
  }
  private readonly ttlMs: number;

  async beat(hb: Omit<WorkerHeartbeat, 'lastSeen'>): Promise<void> {
    const now = this.clock.now();
    const full: WorkerHeartbeat = { ...hb, lastSeen: now };
    await this.redis
      .multi()
      .set(this.keys.worker(hb.id), JSON.stringify(full), 'PX', this.ttlMs)
      .zadd(this.keys.poolWorkers(hb.pool), now, hb.id)
      .exec();
  }

  async remove(id: string, pool: string): Promise<void> {
    await this.redis.multi().del(this.keys.worker(id)).zrem(this.keys.poolWorkers(pool), id).exec();
  }

  /** Workers of the pool seen within the ttl. */
  async list(pool: string): Promise<WorkerHeartbeat[]> {
    const now = this.clock.now();
    await this.redis.zremrangebyscore(this.keys.poolWorkers(pool), '-inf', now - this.ttlMs);
    const ids = await this.redis.zrange(this.keys.poolWorkers(pool), 0, -1);
    if (ids.length === 0) return [];
    const vals = await this.redis.mget(ids.map((id) => this.keys.worker(id)));
    return vals.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as WorkerHeartbeat);
  }
}
