import type { Redis } from 'ioredis';
import {
  gangOf,
  JobSpecCache,
  jobViews,
  Keys,
  wallClock,
  type JobFeed,
  type JobState,
  type JobStore,
  type Logger,
  type Pool,
} from '@kumo/shared';
import { allocate, budgetRoom, type FeedCandidate, type UserShare } from './fair-share';
import { canaryGate, dependenciesMet, failCanary, type GateContext } from './feed-gates';
import { sharedBudget, sharedRoom, type JobSpend, type SharedBudget } from './spend-gates';
import { BullTaskSink, type TaskSink } from './task-sink';

const feedable = (state: JobState): boolean =>
  state === 'queued' || state === 'running' || state === 'budget_exhausted';

/**
 * Keeps each pool's queue topped up with a window of tasks, never a whole job: Redis holds what is in
 * flight, not what is submitted. Higher priority first; within a priority, the window is shared
 * evenly between users, then between each user's jobs (fair share).
 */
export class Feeder {
  private readonly sink: TaskSink;
  private readonly specs: JobSpecCache;
  private readonly keys: Keys;
  private readonly gates: GateContext;
  /** Tasks fed, for tests and metrics. */
  fed = 0;

  constructor(
    private readonly opts: {
      redis: Redis;
      prefix: string;
      jobs: JobStore;
      logger: Logger;
      minWindow?: number;
      maxWindow?: number;
      sink?: TaskSink;
      /** Every pool's name: a user's budget counts their jobs in all pools, not only the one being fed. */
      poolNames?: () => Promise<string[]>;
      /** The scheduler's one cache of job specs; a feeder alone (tests, the simulator) makes its own. */
      specs?: JobSpecCache;
    },
  ) {
    this.keys = new Keys(opts.prefix);
    this.gates = { redis: opts.redis, keys: this.keys, jobs: opts.jobs, logger: opts.logger };
    this.sink = opts.sink ?? new BullTaskSink(opts.redis, opts.prefix);
    this.specs = opts.specs ?? new JobSpecCache(opts.jobs, { clock: wallClock });
  }

  /**
   * How many tasks a pool's queue should hold: enough that every slot finds work for many feed ticks
   * (32 per slot), never more than maxWindow. Waiting tasks cost ~1 KB of Redis each.
   */
  window(pool: Pool): number {
    const slots = pool.max * pool.slotsPerVm;
    return Math.min(this.opts.maxWindow ?? 5000, Math.max(this.opts.minWindow ?? 200, slots * 32));
  }

  /** Tops the pool's queue up. `starved`: the queue was empty, so workers may be idle (feed again soon). */
  async feedPool(pool: Pool): Promise<number> {
    return (await this.feed(pool)).added;
  }

  async feed(pool: Pool): Promise<{ added: number; starved: boolean }> {
    const waiting = await this.sink.waiting(pool.name);
    const window = this.window(pool);
    const room = window - waiting;
    const starved = waiting === 0;
    // Top up in chunks, not one task at a time: fewer, larger adds.
    const full = room < Math.max(1, Math.floor(window / 4));
    if (full && !pool.preemption) return { added: 0, starved };
    const ids = await this.opts.jobs.activeJobIds(pool.name);
    if (ids.length === 0) return { added: 0, starved };
    const { candidates, shares, lowest } = await this.candidates(ids, pool);
    // In a pool with preemption, jobs above its lowest priority go to the front of the queue, even when
    // the window is full: at most a slot's worth each in flight, taking the slots the preemptor frees.
    const slots = pool.max * pool.slotsPerVm;
    const urgent = pool.preemption ? candidates.filter((c) => c.priority > lowest) : [];
    const plan = full
      ? allocate(
          urgent.map((c) => ({ ...c, total: Math.min(c.total, c.fed + Math.max(0, slots - (c.inFlight ?? 0))) })),
          slots,
          shares,
        )
      : allocate(candidates, room, shares);
    const front = new Set(urgent.map((c) => c.id));
    let added = 0;
    let gangRanks: number | undefined;
    for (const [job, share] of plan) {
      const meta = await this.specs.fixed(job.id);
      if (!meta) continue;
      let n = share;
      if (gangOf(meta.spec) !== undefined) {
        // A gang is fed whole or not at all: its ranks wait for each other, so a part alone only holds
        // VMs. Whole even past its share of the window (a gang is at most 64 tasks), never past its budget.
        if (job.total < job.all) continue;
        n = job.all - job.fed;
        // And only when it fits beside the gangs already in flight: two gangs that need more VMs than
        // the pool has between them would split its VMs and wait on each other until both gave up.
        gangRanks ??= await this.gangRanksInFlight(ids);
        if (gangRanks + n > pool.max) continue;
        gangRanks += n;
      }
      await this.sink.add(pool.name, {
        jobId: job.id,
        from: job.fed,
        to: job.fed + n,
        kind: meta.spec.kind,
        policy: meta.policy,
        front: front.has(job.id),
      });
      if (await this.opts.jobs.advanceFeed(job.id, job.fed, job.fed + n)) added += n;
    }
    this.fed += added;
    return { added, starved };
  }

  /**
   * The jobs that may be fed now, each with how far: its remaining tasks, held back by its gates in
   * order: dependencies (wait for them; fail if one failed), the canary (only the first N until they
   * all succeeded), the budget (only what it can still pay for).
   */
  private async candidates(
    ids: string[],
    pool: Pool,
  ): Promise<{ candidates: FeedCandidate[]; shares: Map<string, UserShare>; lowest: number }> {
    const read = await jobViews.feed.readMany(this.opts.redis, this.keys, ids);
    const jobs: { id: string; f: JobFeed }[] = [];
    ids.forEach((id, n) => read[n] && jobs.push({ id, f: read[n] }));
    const budgets = await this.userBudgets(
      jobs.map((j) => j.f),
      pool.name,
    );
    const firstWave = pool.max * pool.slotsPerVm;
    const out: FeedCandidate[] = [];
    for (const { id, f } of jobs) {
      const { state, fed, succeeded, costUsd } = f;
      if (!feedable(state)) continue;
      let limit = f.total;
      const done = succeeded + f.failed;
      const ran = done - f.preset;
      if (f.deps && !f.depsMet && !(await dependenciesMet(this.gates, id, f.deps))) continue;
      const canaryLimit = canaryGate(f);
      if (canaryLimit === 'failed') {
        await failCanary(this.gates, id, f);
        continue;
      }
      limit = Math.min(limit, canaryLimit);
      // Budgets: the job's own, and its user's across all their jobs. Each gives a room; the job is held
      // when either is spent, and resumes only when both have room again.
      const gates: { room: number; exhausted: boolean; why: string }[] = [];
      if (f.maxCostUsd !== undefined) {
        const max = f.maxCostUsd;
        gates.push({
          ...budgetRoom({ state, fed, done, ran, costUsd, maxCostUsd: max }, firstWave),
          why: `budget of $${max} reached ($${costUsd.toFixed(2)} spent)`,
        });
      }
      const u = budgets.users.get(f.user);
      if (u)
        gates.push({
          ...sharedRoom(u, { fed, done, ran, costUsd }, firstWave),
          why: `budget of user ${f.user} ($${u.max}) reached ($${u.spent.toFixed(2)} spent)`,
        });
      const team = budgets.team;
      if (team)
        gates.push({
          ...sharedRoom(team, { fed, done, ran, costUsd }, firstWave),
          why: `the team's monthly budget ($${team.max}) reached ($${team.spent.toFixed(2)} spent)`,
        });
      if (gates.length > 0) {
        const room = Math.min(...gates.map((g) => g.room));
        const spent = gates.find((g) => g.exhausted);
        if (spent && fed < limit && state !== 'budget_exhausted') {
          await this.opts.jobs.hold(id, 'budget_exhausted', { from: ['queued', 'running'], reason: spent.why });
          this.opts.logger.info({ jobId: id, why: spent.why }, 'job paused at a budget');
        } else if (!spent && room > 0 && state === 'budget_exhausted') {
          await this.opts.jobs.hold(id, 'running', { from: ['budget_exhausted'], reason: '' });
          this.opts.logger.info({ jobId: id }, 'job resumed within its budgets');
        }
        if (room === 0 || state === 'budget_exhausted') continue;
        limit = Math.min(limit, fed + room);
      } else if (state === 'budget_exhausted') continue;
      if (fed < limit)
        out.push({
          id,
          fed,
          total: limit,
          all: f.total,
          priority: f.priority,
          user: f.user,
          inFlight: Math.max(0, fed - done),
        });
    }
    const lowest = Math.min(...jobs.filter((j) => feedable(j.f.state)).map((j) => j.f.priority));
    return {
      candidates: out,
      shares: await this.poolShares(
        jobs.map((j) => j.f),
        pool.name,
      ),
      lowest,
    };
  }

  /**
   * Each user's weight, and their room under their slot cap in this pool: a task fed and not finished
   * holds a slot or waits for one, so a user never has more than their cap running.
   */
  private async poolShares(jobs: JobFeed[], pool: string): Promise<Map<string, UserShare>> {
    const out = new Map<string, UserShare>();
    for (const [user, s] of await this.opts.jobs.shares.inPool([...new Set(jobs.map((f) => f.user))], pool)) {
      if (s.maxSlots === undefined) out.set(user, { weight: s.weight });
      else
        out.set(user, {
          weight: s.weight,
          room: Math.max(
            0,
            s.maxSlots -
              jobs.filter((f) => f.user === user).reduce((n, f) => n + Math.max(0, f.fed - f.succeeded - f.failed), 0),
          ),
        });
    }
    return out;
  }

  /**
   * The users with a budget among these jobs, and the team's budget if set: what each may still spend,
   * net of what the tasks already fed will cost (at each job's cost per finished task), over the active
   * jobs in every pool, and how many such jobs share it (what is left is shared evenly between them).
   */
  private async userBudgets(
    jobs: JobFeed[],
    pool: string,
  ): Promise<{ users: Map<string, SharedBudget>; team?: SharedBudget }> {
    const limits = await this.opts.jobs.budgets.limits([...new Set(jobs.map((f) => f.user))]);
    const users = new Map<string, SharedBudget>();
    if (limits.users.size === 0 && !limits.team) return { users };
    // The team's budget counts everyone's jobs; users' budgets only their own.
    const all = [...jobs, ...(await this.jobsInOtherPools(pool, limits.team ? undefined : limits.users))];
    const spend = (f: JobFeed): JobSpend => ({
      fed: f.fed,
      done: f.succeeded + f.failed,
      ran: f.succeeded + f.failed - f.preset,
      costUsd: f.costUsd,
    });
    for (const [n, l] of limits.users) users.set(n, sharedBudget(l, all.filter((f) => f.user === n).map(spend)));
    return limits.team ? { users, team: sharedBudget(limits.team, all.map(spend)) } : { users };
  }

  /** The active jobs in every pool but `pool` of these users (of all, without), fetched only for a budget. */
  private async jobsInOtherPools(pool: string, users?: Map<string, unknown>): Promise<JobFeed[]> {
    const others = (await this.opts.poolNames?.())?.filter((p) => p !== pool) ?? [];
    if (others.length === 0) return [];
    const ids = (await Promise.all(others.map((p) => this.opts.jobs.activeJobIds(p)))).flat();
    const read = await jobViews.feed.readMany(this.opts.redis, this.keys, ids);
    return read.filter((f): f is JobFeed => f !== undefined && (!users || users.has(f.user)) && feedable(f.state));
  }

  /** Ranks of the pool's gangs that are fed and not finished: each holds, or waits for, a VM. */
  private async gangRanksInFlight(ids: string[]): Promise<number> {
    const counts = await jobViews.counts.readMany(this.opts.redis, this.keys, ids);
    let ranks = 0;
    for (let n = 0; n < ids.length; n++) {
      const c = counts[n];
      if (!c?.fed) continue;
      const spec = (await this.specs.fixed(ids[n]!))?.spec;
      if (!spec || gangOf(spec) === undefined) continue;
      ranks += Math.max(0, c.fed - c.succeeded - c.failed);
    }
    return ranks;
  }

  async close(): Promise<void> {
    await this.sink.close();
  }
}
