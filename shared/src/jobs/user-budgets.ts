import type { Redis } from 'ioredis';
import type { Clock } from '../clock';
import type { Keys } from '../store/keys';
import { monthOf } from '../spend/spend-month';

/** What a budget counts: all the spend there ever was (`all`), or the current month's (`month`). */
export type BudgetPeriod = 'all' | 'month';

/** A user's spend and budget, as `GET /v1/users/:name/budget` shows them. */
export interface UserBudget {
  name: string;
  /** Spend across all their jobs, ever. */
  costUsd: number;
  maxCostUsd: number | null;
  period: BudgetPeriod;
  /** The current month (`YYYY-MM`, in the budgets' time zone) and the user's spend in it. */
  month: string;
  monthCostUsd: number;
}

/** A budget the feeder holds jobs to: the most, and what counts against it now. */
export interface BudgetLimit {
  max: number;
  spent: number;
}

const cents4 = (v: string | null | undefined): number => Math.round(Number(v ?? 0) * 10_000) / 10_000;

/**
 * Users' spend across their jobs (summed by the ingester), the team's monthly spend over everyone, and
 * the budgets the feeder holds them to. A monthly budget needs no reset job: the month's spend is a key
 * of its own (Keys.spendMonth), so when the month changes (in `timeZone`) the budget counts from zero.
 */
export class UserBudgets {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly clock: Clock,
    /** The time zone whose midnight starts a month. */
    readonly timeZone: string,
  ) {}

  /** The current month, `YYYY-MM`. */
  month(): string {
    return monthOf(this.clock.now(), this.timeZone);
  }

  /** A user's spend across their jobs, this month's, and their budget if one is set. */
  async get(user: string): Promise<UserBudget> {
    const month = this.month();
    const [[cost, max, period], monthCost] = await Promise.all([
      this.redis.hmget(this.keys.user(user), 'costUsd', 'maxCostUsd', 'budgetPeriod'),
      this.redis.hget(this.keys.spendMonth(month), `user:${user}`),
    ]);
    return {
      name: user,
      costUsd: cents4(cost),
      maxCostUsd: max === null ? null : Number(max),
      period: period === 'month' ? 'month' : 'all',
      month,
      monthCostUsd: cents4(monthCost),
    };
  }

  /** Sets (or with null, removes) a user's budget; the feeder holds and resumes their jobs by it. */
  async set(user: string, maxCostUsd: number | null, period: BudgetPeriod = 'all'): Promise<void> {
    if (maxCostUsd === null) await this.redis.hdel(this.keys.user(user), 'maxCostUsd', 'budgetPeriod');
    else if (period === 'month')
      await this.redis.hset(this.keys.user(user), 'maxCostUsd', maxCostUsd, 'budgetPeriod', 'month');
    else
      await this.redis
        .multi()
        .hset(this.keys.user(user), 'maxCostUsd', maxCostUsd)
        .hdel(this.keys.user(user), 'budgetPeriod')
        .exec();
  }

  /** The team's monthly budget over everyone, and the month's spend in all. */
  async team(): Promise<{ maxCostUsd: number | null; month: string; monthCostUsd: number }> {
    const month = this.month();
    const [max, spent] = await Promise.all([
      this.redis.hget(this.keys.team(), 'maxCostUsd'),
      this.redis.hget(this.keys.spendMonth(month), 'all'),
    ]);
    return { maxCostUsd: max === null ? null : Number(max), month, monthCostUsd: cents4(spent) };
  }

  /** Sets (or with null, removes) the team's monthly budget. */
  async setTeam(maxCostUsd: number | null): Promise<void> {
    if (maxCostUsd === null) await this.redis.hdel(this.keys.team(), 'maxCostUsd');
    else await this.redis.hset(this.keys.team(), 'maxCostUsd', maxCostUsd);
  }

  /**
   * The budgets of these users that have one, each with what counts against it now (their spend ever,
   * or this month's), and the team's if set: what the feeder reads each tick, in one round trip.
   */
  async limits(users: readonly string[]): Promise<{ users: Map<string, BudgetLimit>; team?: BudgetLimit }> {
    const spendKey = this.keys.spendMonth(this.month());
    const pipe = this.redis.pipeline();
    for (const n of users)
      pipe.hmget(this.keys.user(n), 'maxCostUsd', 'costUsd', 'budgetPeriod').hget(spendKey, `user:${n}`);
    pipe.hget(this.keys.team(), 'maxCostUsd').hget(spendKey, 'all');
    const res = ((await pipe.exec()) ?? []).map((r) => r[1]);
    const out = new Map<string, BudgetLimit>();
    users.forEach((n, i) => {
      const [max, cost, period] = (res[2 * i] as (string | null)[] | undefined) ?? [];
      if (max === null || max === undefined) return;
      out.set(n, {
        max: Number(max),
        spent: Number((period === 'month' ? (res[2 * i + 1] as string | null) : cost) ?? 0),
      });
    });
    const teamMax = res[2 * users.length] as string | null;
    if (teamMax === null) return { users: out };
    return {
      users: out,
      team: { max: Number(teamMax), spent: Number((res[2 * users.length + 1] as string | null) ?? 0) },
    };
  }
}
