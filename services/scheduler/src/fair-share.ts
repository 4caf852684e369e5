import type { JobState } from '@kumo/shared';

/** A job the feeder may feed now, as the fair share sees it. */
export interface FeedCandidate {
  id: string;
  priority: number;
  user: string;
  fed: number;
  /** The most the job may be fed now: its remaining tasks, or fewer under its budget. */
  total: number;
  /** The job's task count. */
  all: number;
  /** Tasks fed and not finished (running, or waiting for a slot). */
  inFlight?: number;
}

/** What a job's budget looks like to the feeder. */
export interface BudgetView {
  state: JobState;
  fed: number;
  /** Tasks final, those preset done at creation (a skip) among them: `fed - done` is what is in flight. */
  done: number;
  /** Tasks that ran to their end: `done` less the preset ones, which cost nothing. What a task costs is reckoned over these. */
  ran: number;
  costUsd: number;
  maxCostUsd: number;
}

/**
 * How many more tasks a job with a budget may be fed: what is left of the budget, less what the tasks
 * already fed will cost, at the cost per finished task so far. Before any task has finished the cost is
 * unknown, so only a first wave the size of the pool's slots goes out. Unlimited when tasks cost nothing.
 */
export function budgetRoom(b: BudgetView, firstWave: number): { room: number; exhausted: boolean } {
  const inFlight = Math.max(0, b.fed - b.done);
  if (b.costUsd >= b.maxCostUsd) return { room: 0, exhausted: true };
  // No task has finished: the cost of one is unknown. Wait for the first wave, do not call it spent.
  if (b.ran === 0) return { room: Math.max(0, firstWave - inFlight), exhausted: false };
  const perTask = b.costUsd / b.ran;
  if (perTask === 0) return { room: Number.MAX_SAFE_INTEGER, exhausted: false };
  const room = Math.max(0, Math.floor((b.maxCostUsd - b.costUsd) / perTask) - inFlight);
  return { room, exhausted: room === 0 };
}

/** A user's part of a pool, as the fair share weighs it. */
export interface UserShare {
  /** Shares follow weights: a user of weight 2 gets twice the tasks of one of weight 1 (default 1). */
  weight: number;
  /** The most tasks the user may be given now (their slot cap, less what they have in flight); unlimited if unset. */
  room?: number;
}

/**
 * Splits `room` tasks: highest priority first; within it, across users in proportion to their weights
 * (evenly by default), each at most their own room, then evenly across each user's jobs, oldest first;
 * what one cannot take goes to the others.
 */
export function allocate(
  candidates: FeedCandidate[],
  room: number,
  shares: ReadonlyMap<string, UserShare> = new Map(),
): Map<FeedCandidate, number> {
  const plan = new Map<FeedCandidate, number>();
  const given = new Map<string, number>();
  const weightOf = (user: string): number => shares.get(user)?.weight ?? 1;
  const userLeft = (user: string): number =>
    (shares.get(user)?.room ?? Number.MAX_SAFE_INTEGER) - (given.get(user) ?? 0);
  const byPriority = [...new Set(candidates.map((c) => c.priority))].sort((a, b) => b - a);
  for (const prio of byPriority) {
    if (room <= 0) break;
    const tier = candidates.filter((c) => c.priority === prio).sort((a, b) => (a.id < b.id ? -1 : 1));
    const users = new Map<string, FeedCandidate[]>();
    for (const c of tier) {
      let list = users.get(c.user);
      if (!list) users.set(c.user, (list = []));
      list.push(c);
    }
    // Round robin over users, each a chunk by weight, and within a user over jobs.
    const left = (c: FeedCandidate): number => c.total - c.fed - (plan.get(c) ?? 0);
    let progress = true;
    while (room > 0 && progress) {
      progress = false;
      const active = [...users].filter(([user, jobs]) => userLeft(user) > 0 && jobs.some((j) => left(j) > 0));
      if (active.length === 0) break;
      const weights = active.reduce((sum, [user]) => sum + weightOf(user), 0);
      const round = room;
      for (const [user, jobs] of active) {
        let share = Math.min(Math.max(1, Math.floor((round * weightOf(user)) / weights)), room, userLeft(user));
        const open = jobs.filter((j) => left(j) > 0);
        const perJob = Math.max(1, Math.floor(share / open.length));
        for (const j of open) {
          const n = Math.min(perJob, left(j), share, room);
          if (n <= 0) continue;
          plan.set(j, (plan.get(j) ?? 0) + n);
          given.set(user, (given.get(user) ?? 0) + n);
          share -= n;
          room -= n;
          progress = true;
        }
      }
    }
  }
  return plan;
}
