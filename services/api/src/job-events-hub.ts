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

  constructor(
    private readonly opts: { subscriber: Redis; keys: Keys; jobs: JobStore; logger: Logger; coalesceMs?: number; maxWatchers?: number },
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

  /** Returns an unsubscribe function, or undefined when the watcher cap is reached. */
  watch(jobId: string, fn: Listener): (() => void) | undefined {
    if (this.total >= (this.opts.maxWatchers ?? 10_000)) return undefined;
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(fn);
    this.total++;
    return () => {
      if (set.delete(fn)) this.total--;
      if (set.size === 0) this.listeners.delete(jobId);
    };
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
    try {
      await this.opts.subscriber.quit();
    } catch {
      this.opts.subscriber.disconnect();
    }
  }
}
