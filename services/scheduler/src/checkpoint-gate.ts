import { checkCheckpoint, type JobSpecCache, type JobStore, type Logger, type TaskEvent } from '@kumo/shared';

/**
 * The checkpoints workers report, checked where every report lands (the ingester), so Redis-side
 * agents and HTTPS workers are held to the same rules: a checkpoint is kept only if its job's spec
 * allows it (see checkCheckpoint) and it is further along than the one recorded. A refused one is
 * dropped with a warning; one behind the record (a stale attempt, a redelivery) is simply ignored.
 */
export class CheckpointGate {
  /** Checkpoints refused for breaking a rule, for tests and metrics. */
  refused = 0;

  /** `specs`: the scheduler's one cache of job specs (a spec's target and checkpoint never change). */
  constructor(private readonly opts: { jobs: JobStore; specs: JobSpecCache; logger: Logger }) {}

  /**
   * One job's events, less the checkpoints that must not be recorded; `checkpoints` are the ones kept,
   * each further along than the last. Read before the events are applied: a message redelivered
   * because starting an evaluation failed finds the record where it was, and its checkpoints again.
   */
  async check(jobId: string, events: TaskEvent[]): Promise<{ events: TaskEvent[]; checkpoints: TaskEvent[] }> {
    if (!events.some((e) => e.t === 'c')) return { events, checkpoints: [] };
    const spec = (await this.opts.specs.fixed(jobId))?.spec;
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
}
