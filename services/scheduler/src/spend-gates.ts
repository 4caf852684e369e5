import type { BudgetLimit } from '@kumo/shared';

/** A budget shared by several jobs (a user's, the team's), as the feeder holds them to it. */
export interface SharedBudget extends BudgetLimit {
  /** What may still be spent: the budget, less what was spent and what the tasks in flight will cost. */
  available: number;
  /** The active jobs that share it. */
  jobs: number;
}

/** What the feeder knows of one active job's spend. */
export interface JobSpend {
  fed: number;
  /** Tasks final, the preset ones (a skip) among them. */
  done: number;
  /** Tasks that ran to their end (done less the preset): the cost per task is reckoned over these. */
  ran: number;
  costUsd: number;
}

/**
 * A shared budget over these jobs: what is left once the tasks they have in flight (fed, not finished)
 * are paid for, at each job's cost per finished task so far.
 */
export function sharedBudget(limit: BudgetLimit, jobs: readonly JobSpend[]): SharedBudget {
  let inFlightCost = 0;
  for (const j of jobs) if (j.ran > 0) inFlightCost += Math.max(0, j.fed - j.done) * (j.costUsd / j.ran);
  return { ...limit, available: limit.max - limit.spent - inFlightCost, jobs: Math.max(1, jobs.length) };
}

/**
 * How many more tasks one job may be fed under a shared budget: what is left of it is shared evenly
 * between the jobs, so none starves another. Before the job has finished a task its cost is unknown,
 * so only a first wave goes out; exhausted when nothing is left, or not one more task fits.
 */
export function sharedRoom(b: SharedBudget, j: JobSpend, firstWave: number): { room: number; exhausted: boolean } {
  const inFlight = Math.max(0, j.fed - j.done);
  const perTask = j.ran > 0 ? j.costUsd / j.ran : 0;
  const share = b.available / b.jobs;
  const room =
    share <= 0
      ? 0
      : perTask > 0
        ? Math.max(0, Math.floor(share / perTask))
        : j.ran === 0
          ? Math.max(0, firstWave - inFlight)
          : Number.MAX_SAFE_INTEGER;
  return { room, exhausted: b.available <= 0 || (perTask > 0 && room === 0) };
}
