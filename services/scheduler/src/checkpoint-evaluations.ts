import { isKumoError, jobSpecSchema, type JobStore, type Logger, type TaskEvent, type TrainingSpec } from '@kumo/shared';

/** Labels an evaluation job started by a checkpoint carries, to find it from its training job. */
export const TRAINING_JOB_LABEL = 'training-job';
export const CHECKPOINT_STEP_LABEL = 'checkpoint-step';

/**
 * Evaluation started by a new checkpoint: a training job with `evaluate` gets one evaluation job per
 * checkpoint it records (a multiple of `everySteps`, or the target step), of that checkpoint x the
 * benchmarks. The job is created with an idempotency key of the training job and the step, so a
 * checkpoint event delivered twice, or seen by two schedulers, never makes a second one.
 */
export class CheckpointEvaluations {
  /** Training specs with `evaluate`, by job id; null: the job has none (or is another kind). */
  private readonly specs = new Map<string, TrainingSpec | null>();
  /** Evaluation jobs created, for tests and logs. */
  created = 0;

  constructor(private readonly opts: { jobs: JobStore; logger: Logger }) {}

  /** Called with a job's events once they are applied; throws (so the message is redelivered) when a create fails. */
  async onApplied(jobId: string, user: string, events: TaskEvent[]): Promise<void> {
    const checkpoints = events.filter((e) => e.t === 'c');
    if (checkpoints.length === 0) return;
    const spec = await this.trainingSpec(jobId);
    if (!spec?.evaluate) return;
    for (const e of checkpoints) {
      const step = e.data?.step;
      const uri = e.data?.uri;
      if (typeof step !== 'number' || !Number.isInteger(step) || typeof uri !== 'string' || uri === '') continue;
      const every = spec.evaluate.everySteps;
      if (every && step % every !== 0 && step < spec.target.steps) continue;
      await this.start(jobId, user, spec, step, uri);
    }
  }

  private async start(trainingId: string, user: string, training: TrainingSpec, step: number, uri: string): Promise<void> {
    const evaluate = training.evaluate!;
    const parsed = jobSpecSchema.safeParse({
      kind: 'evaluation',
      name: `${training.name.slice(0, 100)} eval @ step ${step}`,
      pool: evaluate.pool ?? training.pool,
      priority: training.priority,
      run: evaluate.run,
      env: { ...training.env, ...evaluate.env },
      labels: { ...training.labels, [TRAINING_JOB_LABEL]: trainingId, [CHECKPOINT_STEP_LABEL]: String(step) },
      checkpoints: [uri],
      benchmarks: evaluate.benchmarks,
    });
    // Cannot happen for a training spec that passed validation, short of merged env or labels over
    // their limits; retrying would not change it, so say it and go on.
    if (!parsed.success) {
      this.opts.logger.error({ trainingJobId: trainingId, step, issues: parsed.error.issues }, 'evaluation of a checkpoint not started: invalid spec');
      return;
    }
    const spec = parsed.data;
    try {
      const { job, created } = await this.opts.jobs.create({ spec, user, idempotencyKey: `${trainingId}:step-${step}`, idempotencyScope: 'checkpoint-evaluations' });
      // Also when not created (a redelivery): the record may be what the first delivery did not get to.
      await this.opts.jobs.addEvaluation(trainingId, step, job.id);
      if (created) {
        this.created++;
        this.opts.logger.info({ jobId: job.id, trainingJobId: trainingId, step }, 'evaluation of a new checkpoint started');
      }
    } catch (err) {
      // The same step reported again with another URI (a retried trainer rewrote it): the first one stands.
      if (isKumoError(err) && err.code === 'IDEMPOTENCY_KEY_REUSED') {
        this.opts.logger.warn({ trainingJobId: trainingId, step, uri }, 'checkpoint step already evaluated from another URI');
        return;
      }
      // A refusal that a retry cannot change (the pool was deleted since): say so, do not redeliver forever.
      if (isKumoError(err) && !err.retryable) {
        this.opts.logger.error({ err, trainingJobId: trainingId, step }, 'evaluation of a checkpoint not started');
        return;
      }
      throw err;
    }
  }

  private async trainingSpec(jobId: string): Promise<TrainingSpec | null> {
    if (this.specs.has(jobId)) return this.specs.get(jobId)!;
    const rt = await this.opts.jobs.runtime(jobId);
    const spec = rt?.spec.kind === 'training' && rt.spec.evaluate ? rt.spec : null;
    if (this.specs.size > 10_000) this.specs.clear();
    this.specs.set(jobId, spec);
    return spec;
  }
}
