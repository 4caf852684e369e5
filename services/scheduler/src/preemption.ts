/** What the preemption plan knows of one active job in a pool. */
export interface SlotUse {
  id: string;
  priority: number;
  /** Tasks running now (the job's running count). */
  running: number;
  /** Tasks fed and waiting in the queue for a slot. */
  waiting: number;
}

/**
 * Which running tasks to hand back so that waiting tasks of higher priority get slots, in a pool that
 * allows preemption: free slots are used first; then each waiting task of a job takes the slot of one
 * running task of a strictly lower priority, the lowest priority first and, within it, the newest job
 * first (the one that has run least). Never more than the waiting tasks need, so counts stay exact.
 * Returns, per job, how many of its running tasks to hand back.
 */
export function planPreemption(jobs: readonly SlotUse[], slots: number): Map<string, number> {
  const plan = new Map<string, number>();
  let free = Math.max(0, slots - jobs.reduce((n, j) => n + j.running, 0));
  const victims = [...jobs].sort((a, b) => a.priority - b.priority || (a.id < b.id ? 1 : -1)).map((j) => ({ job: j, left: j.running }));
  const claimants = [...jobs].filter((j) => j.waiting > 0).sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1));
  for (const c of claimants) {
    let want = c.waiting;
    const fromFree = Math.min(want, free);
    free -= fromFree;
    want -= fromFree;
    for (const v of victims) {
      if (want === 0 || v.job.priority >= c.priority) break;
      const n = Math.min(want, v.left);
      if (n === 0) continue;
      v.left -= n;
      want -= n;
      plan.set(v.job.id, (plan.get(v.job.id) ?? 0) + n);
    }
  }
  return plan;
}
