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
}

/** What a job's budget looks like to the feeder. */
export interface BudgetView {
  state: JobState;
  fed: number;
  done: number;
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
  if (b.done === 0) return { room: Math.max(0, firstWave - inFlight), exhausted: false };
  const perTask = b.costUsd / b.done;
  if (perTask === 0) return { room: Number.MAX_SAFE_INTEGER, exhausted: false };
  const room = Math.max(0, Math.floor((b.maxCostUsd - b.costUsd) / perTask) - inFlight);
  return { room, exhausted: room === 0 };
}

/**
 * Splits `room` tasks: highest priority first; within it, evenly across users, then across each
 * user's jobs, oldest first; what one cannot take goes to the others.
 */
export function allocate(candidates: FeedCandidate[], room: number): Map<FeedCandidate, number> {
  const plan = new Map<FeedCandidate, number>();
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
    // Round robin over users, and within a user over jobs, one chunk at a time.
    const left = (c: FeedCandidate): number => c.total - c.fed - (plan.get(c) ?? 0);
    let progress = true;
    while (room > 0 && progress) {
      progress = false;
      const active = [...users.values()].filter((jobs) => jobs.some((j) => left(j) > 0));
      if (active.length === 0) break;
      const perUser = Math.max(1, Math.floor(room / active.length));
      for (const jobs of active) {
        let share = Math.min(perUser, room);
        const open = jobs.filter((j) => left(j) > 0);
        const perJob = Math.max(1, Math.floor(share / open.length));
        for (const j of open) {
          const n = Math.min(perJob, left(j), share, room);
          if (n <= 0) continue;
          plan.set(j, (plan.get(j) ?? 0) + n);
          share -= n;
          room -= n;
          progress = true;
        }
      }
    }
  }
  return plan;
}
