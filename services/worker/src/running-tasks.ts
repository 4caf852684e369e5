import type { Redis } from 'ioredis';
import type { Logger, StopReason } from '@kumo/shared';

/** One delivery of a task running on this worker. */
export interface RunningTask {
  /**
   * The lock token BullMQ handed this delivery with: its key here. Two deliveries of one task can be on
   * one worker at once (the first froze past its lock and is being stopped); keyed by the task, the
   * second would hide the first from every stop.
   */
  token: string;
  /** The BullMQ entry (`jobId.index`), whose lock the token must hold. */
  queueId: string;
  jobId: string;
  index: number;
  abort: AbortController;
  startedAt: number;
  /** A gang rank: the generation it joined, and whether all its ranks met (then it runs as part of it). */
  gang?: { gen: number; formed: boolean };
  /** Why it is being stopped, once stop was called (the abort may follow a moment later). */
  stopping?: StopReason;
}

/** What a formed gang rank does before it is signalled: end its generation, so its peers stop too. */
export type EndGeneration = (t: RunningTask) => Promise<boolean>;

/** The tasks running on this worker, and the one way they are stopped. */
export class RunningTasks {
  private readonly tasks = new Map<string, RunningTask>();

  constructor(
    private readonly endGeneration: EndGeneration,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.tasks.size;
  }

  values(): IterableIterator<RunningTask> {
    return this.tasks.values();
  }

  add(t: RunningTask): void {
    this.tasks.set(t.token, t);
  }

  delete(t: RunningTask): void {
    if (this.tasks.get(t.token) === t) this.tasks.delete(t.token);
  }

  /** Other deliveries of the same BullMQ entry still here. */
  ofEntry(queueId: string): RunningTask[] {
    return [...this.tasks.values()].filter((t) => t.queueId === queueId);
  }

  /**
   * Stops a running task. A gang rank that met its gang ends its generation first: its peers are
   * stopped and handed back now, not after this trainer's grace, by when they may have failed on their
   * own for want of it (and been charged an attempt that was not theirs).
   */
  stop(t: RunningTask, why: StopReason): void {
    if (t.stopping) return;
    t.stopping = why;
    if (why === 'lost')
      this.log.warn(
        { jobId: t.jobId, index: t.index },
        "task lock lost: this copy stops, the task is another delivery's now",
      );
    if (t.gang?.formed && why !== 'gang') void this.endGeneration(t).finally(() => t.abort.abort(why));
    else t.abort.abort(why);
  }

  stopJob(jobId: string, why: StopReason): void {
    for (const t of this.tasks.values()) if (t.jobId === jobId) this.stop(t, why);
  }

  /**
   * Stops, as lost, every task whose BullMQ lock is no longer its own token: the worker froze past it
   * (a GC pause, a live migration) and the stall check gave the task to another delivery, which may run
   * it now. One round trip for all of them.
   */
  async checkLocks(redis: Redis, lockKey: (queueId: string) => string): Promise<void> {
    const live = [...this.tasks.values()].filter((t) => !t.stopping);
    if (live.length === 0) return;
    const holders = await redis.mget(...live.map((t) => lockKey(t.queueId)));
    live.forEach((t, n) => {
      if (holders[n] !== t.token) this.stop(t, 'lost');
    });
  }
}
