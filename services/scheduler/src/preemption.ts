import type { Redis } from 'ioredis';
import { jobViews, type Clock, type JobStore, type Keys, type Logger, type Pool } from '@kumo/shared';

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
  const victims = [...jobs]
    .sort((a, b) => a.priority - b.priority || (a.id < b.id ? 1 : -1))
    .map((j) => ({ job: j, left: j.running }));
  const claimants = [...jobs]
    .filter((j) => j.waiting > 0)
    .sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1));
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

/** How long a hand-back asked for may take before the preemptor plans again without it. */
const PENDING_MS = 30_000;

/**
 * Frees slots for higher priorities in pools that allow preemption: plans with `planPreemption` and
 * names the tasks on the workers' control channel (`{type: 'preempt', jobId, indices}`); whichever worker
 * runs one hands it back (StopReason 'preempted': no attempt used, counted as a hand-back). While asked-for
 * hand-backs are still running it plans nothing more, so the waiting tasks are not counted twice.
 */
export class Preemptor {
  /** `jobId|index` -> until when a hand-back asked for is awaited. */
  private readonly pending = new Map<string, number>();

  constructor(private readonly o: { redis: Redis; keys: Keys; jobs: JobStore; clock: Clock; logger: Logger }) {}

  /** Returns how many tasks it asked to hand back. */
  async preempt(pool: Pool): Promise<number> {
    if (!pool.preemption) return 0;
    const ids = await this.o.jobs.activeJobIds(pool.name);
    const feeds = await jobViews.feed.readMany(this.o.redis, this.o.keys, ids);
    const now = this.o.clock.now();
    for (const [k, until] of this.pending) {
      const [jobId, index] = k.split('|') as [string, string];
      if (until < now || !(await this.o.redis.hexists(this.o.keys.jobRunning(jobId), index))) this.pending.delete(k);
    }
    if ([...this.pending.keys()].some((k) => ids.includes(k.split('|')[0]!))) return 0;
    const uses: SlotUse[] = [];
    ids.forEach((id, n) => {
      const f = feeds[n];
      if (f && (f.state === 'queued' || f.state === 'running'))
        uses.push({
          id,
          priority: f.priority,
          running: f.running,
          waiting: Math.max(0, f.fed - f.succeeded - f.failed - f.running),
        });
    });
    let asked = 0;
    for (const [jobId, count] of planPreemption(uses, pool.max * pool.slotsPerVm)) {
      const indices = (await this.o.redis.hkeys(this.o.keys.jobRunning(jobId))).slice(0, count).map(Number);
      if (indices.length === 0) continue;
      for (const i of indices) this.pending.set(`${jobId}|${i}`, now + PENDING_MS);
      await this.o.redis.publish(this.o.keys.controlChannel(), JSON.stringify({ type: 'preempt', jobId, indices }));
      this.o.logger.info({ pool: pool.name, jobId, indices }, 'tasks preempted for a higher priority');
      asked += indices.length;
    }
    return asked;
  }
}
