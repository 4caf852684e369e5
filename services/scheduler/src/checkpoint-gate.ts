import { checkCheckpoint, type JobSpec, type JobStore, type Logger, type TaskEvent } from '@kumo/shared';

/**
 * The checkpoints workers report, checked where every report lands (the ingester), so Redis-side
 * agents and HTTPS workers are held to the same rules: a checkpoint is kept only if its job's spec
 * allows it (see checkCheckpoint) and it is further along than the one recorded. A refused one is
 * dropped with a warning; one behind the record (a stale attempt, a redelivery) is simply ignored.
 */
export class CheckpointGate {
  /** Specs of jobs that reported checkpoints (a spec's target and checkpoint never change). */
  private readonly specs = new Map<string, JobSpec>();
  /** Checkpoints refused for breaking a rule, for tests and metrics. */
  refused = 0;

  constructor(private readonly opts: { jobs: JobStore; logger: Logger }) {}

  /**
   * One job's events, less the checkpoints that must not be recorded; `checkpoints` are the ones kept,
   * each further along than the last. Read before the events are applied: a message redelivered
   * because starting an evaluation failed finds the record where it was, and its checkpoints again.
   */
  async check(jobId: string, events: TaskEvent[]): Promise<{ events: TaskEvent[]; checkpoints: TaskEvent[] }> {
    if (!events.some((e) => e.t === 'c')) return { events, checkpoints: [] };
    const spec = await this.spec(jobId);
    // A deleted job: its events change nothing (the script answers so), nothing to start from them.
    if (!spec) return { events: events.filter((e) => e.t !== 'c'), checkpoints: [] };
    let floor = (await this.opts.jobs.checkpoint(jobId))?.step ?? -1;
    const kept: TaskEvent[] = [];
    const checkpoints: TaskEvent[] = [];
    for (const e of events) {
      if (e.t !== 'c') {
        kept.push(e);
        continue;
      }
      const v = checkCheckpoint(spec, jobId, e.data);
      const fields = { jobId, index: e.i, attempt: e.a, workerId: e.w, step: e.data?.step };
      if (!v.ok) {
        this.refused++;
        const uri = typeof e.data?.uri === 'string' ? e.data.uri.slice(0, 256) : undefined;
        this.opts.logger.warn({ ...fields, reason: v.reason, uri }, 'checkpoint refused');
        continue;
      }
      if (v.step <= floor) {
        this.opts.logger.debug({ ...fields, recordedStep: floor }, 'checkpoint not past the recorded one, ignored');
        continue;
      }
      floor = v.step;
      kept.push(e);
      checkpoints.push(e);
    }
    return { events: kept, checkpoints };
  }

  private async spec(jobId: string): Promise<JobSpec | undefined> {
    let spec = this.specs.get(jobId);
    if (!spec) {
      spec = (await this.opts.jobs.runtime(jobId))?.spec;
      if (!spec) return undefined;
      if (this.specs.size > 10_000) this.specs.clear();
      this.specs.set(jobId, spec);
    }
    return spec;
  }
}
