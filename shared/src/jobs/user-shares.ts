import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys';

/** How much of a pool a user's jobs get, against other users' of the same priority: `PUT /v1/users/:name`. */
export interface UserShares {
  name: string;
  /** A user's part of each pool's tasks is in proportion to their weight (default 1). */
  weight: number;
  /** The most tasks of theirs a pool runs (or holds queued) at once, by pool; a pool not named has no cap. */
  maxSlots: Record<string, number>;
}

/** What the feeder needs of a user in one pool. */
export interface PoolShare {
  weight: number;
  /** The user's slot cap in this pool, if set. */
  maxSlots?: number;
}

/** Users' weights and per-pool slot caps, in their user hash (Keys.user) beside their budget. */
export class UserShareStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async get(user: string): Promise<UserShares> {
    const [weight, maxSlots] = await this.redis.hmget(this.keys.user(user), 'weight', 'maxSlots');
    return {
      name: user,
      weight: weight === null ? 1 : Number(weight),
      maxSlots: maxSlots ? (JSON.parse(maxSlots) as Record<string, number>) : {},
    };
  }

  /** Replaces the user's shares: a weight of 1 and no caps are the defaults, not stored. */
  async set(user: string, s: { weight: number; maxSlots: Record<string, number> }): Promise<void> {
    const key = this.keys.user(user);
    const m = this.redis.multi();
    if (s.weight === 1) m.hdel(key, 'weight');
    else m.hset(key, 'weight', s.weight);
    if (Object.keys(s.maxSlots).length === 0) m.hdel(key, 'maxSlots');
    else m.hset(key, 'maxSlots', JSON.stringify(s.maxSlots));
    await m.exec();
  }

  /** These users' shares of one pool, in one round trip. */
  async inPool(users: readonly string[], pool: string): Promise<Map<string, PoolShare>> {
    const pipe = this.redis.pipeline();
    for (const n of users) pipe.hmget(this.keys.user(n), 'weight', 'maxSlots');
    const res = (await pipe.exec()) ?? [];
    const out = new Map<string, PoolShare>();
    users.forEach((n, i) => {
      const [weight, maxSlots] = (res[i]?.[1] as (string | null)[] | undefined) ?? [];
      const cap = maxSlots ? (JSON.parse(maxSlots) as Record<string, number>)[pool] : undefined;
      out.set(n, {
        weight: weight === null || weight === undefined ? 1 : Number(weight),
        ...(cap !== undefined ? { maxSlots: cap } : {}),
      });
    });
    return out;
  }
}
