import {
  isKumoError,
  JobSpecCache,
  jobSpecSchema,
  wallClock,
  type JobStore,
  type Logger,
  type TaskEvent,
  type TrainingSpec,
} from '@kumo/shared';

/** Labels an evaluation job started by a checkpoint carries, to find it from its training job. */
export const TRAINING_JOB_LABEL = 'training-job';
export const CHECKPOINT_STEP_LABEL = 'checkpoint-step';
/**
 * The most evaluation jobs one training job starts: its checkpoints are reported by its own tasks
 * (any submitter's code), and each one that fits the grid would otherwise become a job.
 */
export const DEFAULT_MAX_EVALUATIONS_PER_JOB = 100;

/**
 * Evaluation started by a new checkpoint: a training job with `evaluate` gets one evaluation job per
 * checkpoint it records (a multiple of `everySteps`, or the target step), of that checkpoint x the
 * benchmarks. The job is created with an idempotency key of the training job and the step, so a
 * checkpoint event delivered twice, or seen by two schedulers, never makes a second one. At most
 * `maxPerJob` are started per training job; past that, a warning says so and nothing more starts.
 */
export class CheckpointEvaluations {
  private readonly specs: JobSpecCache;
  /** Training jobs that reached the cap, so it is said once per job, not once per checkpoint. */
  private readonly capped = new Set<string>();
  private readonly maxPerJob: number;
  /** Evaluation jobs created, and checkpoints not evaluated for the cap, for tests and logs. */
  created = 0;
  refusedForCap = 0;

  /** `specs`: the scheduler's one cache of job specs; alone (tests), its own. */
  constructor(private readonly opts: { jobs: JobStore; logger: Logger; maxPerJob?: number; specs?: JobSpecCache }) {
    this.maxPerJob = opts.maxPerJob ?? DEFAULT_MAX_EVALUATIONS_PER_JOB;
    this.specs = opts.specs ?? new JobSpecCache(opts.jobs, { clock: wallClock });
  }

  /**
   * Called with a job's new checkpoints, checked by the ingester, before they are recorded; throws
   * (so the message is redelivered) when a create fails.
   */
  async onCheckpoints(jobId: string, user: string, events: TaskEvent[]): Promise<void> {
    const checkpoints = events.filter((e) => e.t === 'c');
    if (checkpoints.length === 0) return;
    const spec = await this.trainingSpec(jobId);
    if (!spec?.evaluate) return;
    for (const e of checkpoints) {
      const step = e.data?.step;
      const uri = e.data?.uri;
      if (typeof step !== 'number' || !Number.isInteger(step) || typeof uri !== 'string' || uri === '') continue;
      const every = spec.evaluate.everySteps;
      if (step > spec.target.steps || (every && step % every !== 0 && step < spec.target.steps)) continue;
      if (!(await this.opts.jobs.evaluations.reserve(jobId, step, this.maxPerJob))) {
        this.refusedForCap++;
        if (!this.capped.has(jobId)) {
          if (this.capped.size > 10_000) this.capped.clear();
          this.capped.add(jobId);
          this.opts.logger.warn(
            { trainingJobId: jobId, step, maxEvaluations: this.maxPerJob },
            'evaluation of a checkpoint not started: the training job has started its most evaluation jobs',
          );
        }
        continue;
      }
      await this.start(jobId, user, spec, step, uri);
    }
  }

  private async start(
    trainingId: string,
    user: string,
    training: TrainingSpec,
    step: number,
    uri: string,
  ): Promise<void> {
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
      this.opts.logger.error(
        { trainingJobId: trainingId, step, issues: parsed.error.issues },
        'evaluation of a checkpoint not started: invalid spec',
      );
      return;
    }
    const spec = parsed.data;
    try {
      const { job, created } = await this.opts.jobs.create({
        spec,
        user,
        idempotencyKey: `${trainingId}:step-${step}`,
        idempotencyScope: 'checkpoint-evaluations',
      });
      // Also when not created (a redelivery): the record may be what the first delivery did not get to.
      await this.opts.jobs.evaluations.add(trainingId, step, job.id);
      if (created) {
        this.created++;
        this.opts.logger.info(
          { jobId: job.id, trainingJobId: trainingId, step },
          'evaluation of a new checkpoint started',
        );
      }
    } catch (err) {
      // The same step reported again with another URI (a retried trainer rewrote it): the first one stands.
      if (isKumoError(err) && err.code === 'IDEMPOTENCY_KEY_REUSED') {
        this.opts.logger.warn(
          { trainingJobId: trainingId, step, uri },
          'checkpoint step already evaluated from another URI',
        );
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

  /** The job's spec if it is a training job with `evaluate`; null otherwise (or no such job). */
  private async trainingSpec(jobId: string): Promise<TrainingSpec | null> {
    const spec = (await this.specs.fixed(jobId))?.spec;
    return spec?.kind === 'training' && spec.evaluate ? spec : null;
  }
}
