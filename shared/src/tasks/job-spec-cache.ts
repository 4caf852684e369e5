import { effectivePolicy, taskCount, type EffectivePolicy, type JobSpec } from '../catalog/index';
import type { Clock } from '../clock';
import { isTerminal, type JobState } from '../jobs/job-state';
import type { JobRuntime } from '../jobs/job-store';
import type { JobView } from './task-lifecycle';

export interface CachedJob extends JobView {
  id: string;
  spec: JobSpec;
  policy: EffectivePolicy;
  total: number;
  /** Where it runs and whose it is: like the spec, these never change. */
  pool: string;
  user: string;
  state: JobState;
  checkedAt: number;
}

/** What the cache reads a job from (the JobStore). */
export interface JobSource {
  runtime(id: string): Promise<JobRuntime | undefined>;
  state(id: string): Promise<JobState | undefined>;
}

export interface JobSpecCacheOptions {
  clock: Clock;
  /** How long a job's state is trusted before it is read again; 0: read on every get. Default 1 s. */
  stateTtlMs?: number;
  /** Jobs kept; the least recently used goes first. Default 1000. */
  maxJobs?: number;
}

/**
 * Jobs as a worker or the scheduler needs them: the spec, its policy, pool and user read once (they
 * never change), the state at most every `stateTtlMs`. Bounded, one rule: past `maxJobs` the least
 * recently used job goes, so a process that sees many jobs over weeks keeps only the latest. One per
 * process role, passed to whatever needs jobs (the scheduler's feeder, reconciler, ingester and
 * checkpoint checks share one). A stop heard on the control channel (`markStopped`) makes the end of
 * a job immediate.
 */
export class JobSpecCache {
  private readonly jobs = new Map<string, CachedJob>();
  private readonly loading = new Map<string, Promise<CachedJob | undefined>>();
  private readonly ttlMs: number;
  private readonly max: number;

  constructor(
    private readonly source: JobSource,
    private readonly opts: JobSpecCacheOptions,
  ) {
    this.ttlMs = opts.stateTtlMs ?? 1000;
    this.max = opts.maxJobs ?? 1000;
  }

  /** The job, its state no older than `stateTtlMs`; undefined when there is no such job. */
  async get(id: string): Promise<CachedJob | undefined> {
    const hit = this.touch(id);
    if (hit) {
      const now = this.opts.clock.now();
      if (!isTerminal(hit.state) && now - hit.checkedAt >= this.ttlMs) {
        hit.checkedAt = now;
        // A job whose hash is gone was deleted: as good as cancelled for its tasks.
        hit.state = (await this.source.state(id)) ?? 'cancelled';
      }
      return hit;
    }
    return this.load(id);
  }

  /**
   * Only what never changes of the job (spec, policy, total, pool, user): no state read on a hit.
   * Its `state` is whatever was read last; do not act on it.
   */
  async fixed(id: string): Promise<CachedJob | undefined> {
    return this.touch(id) ?? this.load(id);
  }

  /** A cached job, made the most recently used (last in the map; the first is the one to evict). */
  private touch(id: string): CachedJob | undefined {
    const hit = this.jobs.get(id);
    if (hit) {
      this.jobs.delete(id);
      this.jobs.set(id, hit);
    }
    return hit;
  }

  /** Reads of the same job that overlap share one. */
  private load(id: string): Promise<CachedJob | undefined> {
    let p = this.loading.get(id);
    if (!p) {
      p = this.read(id).finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  private async read(id: string): Promise<CachedJob | undefined> {
    const rt = await this.source.runtime(id);
    if (!rt) return undefined;
    const job: CachedJob = {
      id,
      spec: rt.spec,
      policy: effectivePolicy(rt.spec),
      total: taskCount(rt.spec),
      pool: rt.pool,
      user: rt.user,
      state: rt.state,
      checkedAt: this.opts.clock.now(),
    };
    this.jobs.set(id, job);
    if (this.jobs.size > this.max) this.jobs.delete(this.jobs.keys().next().value!);
    return job;
  }

  markStopped(id: string): void {
    const hit = this.jobs.get(id);
    if (hit) hit.state = 'cancelled';
  }
}
