import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys';

/** Users' spend across their jobs (summed by the ingester) and the budgets the feeder holds them to. */
export class UserBudgets {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** A user's spend across their jobs, and their budget if one is set. */
  async get(user: string): Promise<{ name: string; costUsd: number; maxCostUsd: number | null }> {
    const [cost, max] = await this.redis.hmget(this.keys.user(user), 'costUsd', 'maxCostUsd');
    return { name: user, costUsd: Math.round(Number(cost ?? 0) * 10_000) / 10_000, maxCostUsd: max === null ? null : Number(max) };
  }

  /** Sets (or with null, removes) a user's budget; the feeder holds and resumes their jobs by it. */
  async set(user: string, maxCostUsd: number | null): Promise<void> {
    if (maxCostUsd === null) await this.redis.hdel(this.keys.user(user), 'maxCostUsd');
    else await this.redis.hset(this.keys.user(user), 'maxCostUsd', maxCostUsd);
  }
}
