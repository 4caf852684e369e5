import { effectivePolicy, isTerminal, taskCount, type Clock, type EffectivePolicy, type JobSpec, type JobState, type JobStore } from '@kumo/shared';

export interface CachedJob {
  id: string;
  spec: JobSpec;
  policy: EffectivePolicy;
  total: number;
  state: JobState;
  checkedAt: number;
}

/**
 * The worker reads a job's spec once and its state at most every `stateTtlMs`, instead of once per
 * task; a stop on the control channel (`markStopped`) makes the change immediate.
 */
export class JobCache {
  private readonly jobs = new Map<string, CachedJob>();
  private readonly loading = new Map<string, Promise<CachedJob | undefined>>();

  constructor(
    private readonly store: JobStore,
    private readonly clock: Clock,
    private readonly stateTtlMs = 1000,
  ) {}

  async get(id: string): Promise<CachedJob | undefined> {
    const hit = this.jobs.get(id);
    if (hit) {
      if (!isTerminal(hit.state) && this.clock.now() - hit.checkedAt > this.stateTtlMs) {
        hit.checkedAt = this.clock.now();
        hit.state = (await this.store.state(id)) ?? 'cancelled';
      }
      return hit;
    }
    let p = this.loading.get(id);
    if (!p) {
      p = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  private async load(id: string): Promise<CachedJob | undefined> {
    const rt = await this.store.runtime(id);
    if (!rt) return undefined;
    const job: CachedJob = { id, spec: rt.spec, policy: effectivePolicy(rt.spec), total: taskCount(rt.spec), state: rt.state, checkedAt: this.clock.now() };
    this.jobs.set(id, job);
    if (this.jobs.size > 1000) this.jobs.delete(this.jobs.keys().next().value!);
    return job;
  }

  markStopped(id: string): void {
    const hit = this.jobs.get(id);
    if (hit) hit.state = 'cancelled';
  }
}
