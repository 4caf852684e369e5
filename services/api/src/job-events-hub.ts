import type { Redis } from 'ioredis';
import type { JobRecord, JobStore, Keys, Logger } from '@kumo/shared';

type Listener = (job: JobRecord) => void;

/**
 * Fans job changes out to SSE watchers. One Redis subscription for the whole API; changes to a job are
 * coalesced (at most one read per job per `coalesceMs`), so 1,000 watchers of one busy job cost one
 * Redis read per interval, not one per watcher per task.
 */
export class JobEventsHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private total = 0;
  /** Open watchers per owner (a token id), for the per-token cap. */
  private readonly byOwner = new Map<string, number>();

  constructor(
    private readonly opts: {
      subscriber: Redis;
      keys: Keys;
      jobs: JobStore;
      logger: Logger;
      coalesceMs?: number;
      /** Watchers in all. Default 10,000. */
      maxWatchers?: number;
      /** Watchers one owner (a token) may hold. Default 100: one leaked token or a runaway loop cannot take every slot. */
      maxWatchersPerOwner?: number;
    },
  ) {}

  async start(): Promise<void> {
    await this.opts.subscriber.subscribe(this.opts.keys.jobChangedChannel());
    this.opts.subscriber.on('message', (_c: string, jobId: string) => {
      if (!this.listeners.has(jobId)) return;
      this.dirty.add(jobId);
      this.timer ??= setTimeout(() => void this.flush(), this.opts.coalesceMs ?? 200);
    });
  }

  get watchers(): number {
    return this.total;
  }

  /**
   * Returns an unsubscribe function (safe to call twice), or undefined when the total cap or the
   * owner's cap is reached. Listeners are only ever called from a later tick, never from inside watch().
   */
  watch(jobId: string, fn: Listener, owner = ''): (() => void) | undefined {
    if (this.total >= (this.opts.maxWatchers ?? 10_000)) return undefined;
    const mine = this.byOwner.get(owner) ?? 0;
    if (mine >= (this.opts.maxWatchersPerOwner ?? 100)) return undefined;
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(fn);
    this.total++;
    this.byOwner.set(owner, mine + 1);
    return () => {
      if (!set.delete(fn)) return;
      this.total--;
      const left = (this.byOwner.get(owner) ?? 1) - 1;
      if (left > 0) this.byOwner.set(owner, left);
      else this.byOwner.delete(owner);
      if (set.size === 0 && this.listeners.get(jobId) === set) this.listeners.delete(jobId);
    };
  }

  /** Watchers `owner` holds now. */
  watchersOf(owner: string): number {
    return this.byOwner.get(owner) ?? 0;
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    try {
      const jobs = await this.opts.jobs.getMany(ids);
      for (const job of jobs) {
        if (!job) continue;
        for (const fn of this.listeners.get(job.id) ?? []) fn(job);
      }
    } catch (err) {
      this.opts.logger.warn({ err, jobs: ids.length }, 'job change fan-out failed; will retry');
      for (const id of ids) this.dirty.add(id);
      this.timer ??= setTimeout(() => void this.flush(), 1000);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
    this.byOwner.clear();
    this.total = 0;
    try {
      await this.opts.subscriber.quit();
    } catch {
      this.opts.subscriber.disconnect();
    }
  }
}
