import type { Redis } from 'ioredis';
import { wallClock, type Clock } from '../clock';
import { Keys } from '../store/keys';
import { poolSettingsSchema, type Pool, type PoolSettings } from './pool';

/** What the autoscaler last decided for a pool, and why, in words for the pool's page. */
export interface PoolStatus {
  desired: number;
  live: number;
  running: number;
  /** Demand in tasks: queued + running across the pool's jobs. */
  demand: number;
  reasons: string[];
  /** Spent on the pool's VMs so far (ended ones, and live ones up to the last tick). */
  costUsd: number;
  /** What the pool's running VMs cost per hour now. */
  hourlyUsd: number;
  updatedAt: string;
}

export class PoolStore {
  private readonly keys: Keys;
  private readonly clock: Clock;

  constructor(
    private readonly redis: Redis,
    opts: { prefix?: string; clock?: Clock } = {},
  ) {
    this.keys = new Keys(opts.prefix);
    this.clock = opts.clock ?? wallClock;
  }

  async put(name: string, settings: PoolSettings): Promise<{ pool: Pool; created: boolean }> {
    const now = this.clock.now();
    const [[, created]] = (await this.redis
      .multi()
      .sadd(this.keys.poolsIndex(), name)
      .hset(this.keys.pool(name), 'settings', JSON.stringify(settings), 'updatedAt', now)
      .exec()) as [[null, number]];
    return { pool: { name, ...settings, updatedAt: now }, created: created === 1 };
  }

  /** Creates the pool only if it does not exist (start-up defaults never overwrite a user's settings). */
  async ensure(name: string, settings: PoolSettings): Promise<Pool> {
    const existing = await this.get(name);
    if (existing) return existing;
    return (await this.put(name, settings)).pool;
  }

  async get(name: string): Promise<Pool | undefined> {
    const h = await this.redis.hmget(this.keys.pool(name), 'settings', 'updatedAt');
    if (h[0] === null) return undefined;
    return { name, ...poolSettingsSchema.parse(JSON.parse(h[0]!)), updatedAt: Number(h[1]) };
  }

  async list(): Promise<Pool[]> {
    const names = (await this.redis.smembers(this.keys.poolsIndex())).sort();
    const pools = await Promise.all(names.map((n) => this.get(n)));
    return pools.filter((p): p is Pool => p !== undefined);
  }

  async setStatus(name: string, status: Omit<PoolStatus, 'updatedAt'>): Promise<void> {
    const full: PoolStatus = { ...status, updatedAt: new Date(this.clock.now()).toISOString() };
    await this.redis.set(this.keys.poolStatus(name), JSON.stringify(full));
  }

  async status(name: string): Promise<PoolStatus | undefined> {
    const s = await this.redis.get(this.keys.poolStatus(name));
    return s ? (JSON.parse(s) as PoolStatus) : undefined;
  }
}
