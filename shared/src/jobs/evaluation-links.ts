import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys';
import { storeScripts } from '../store/scripts';

/** Which evaluation jobs a training job's checkpoints started, and the cap on how many may be. */
export class EvaluationLinks {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /**
   * Gives the training job's checkpoint `step` one of its `cap` evaluation slots: true when it has one
   * (now, or from an earlier call), false when all are taken. Atomic, so racing schedulers never start more.
   */
  async reserve(trainingId: string, step: number, cap: number): Promise<boolean> {
    return storeScripts.reserveEvaluation.run(this.redis, { slots: this.keys.jobEvaluationSlots(trainingId) }, [
      step,
      cap,
    ]);
  }

  /** Records that `evaluationId` evaluates the training job's checkpoint at `step` (idempotent). */
  async add(trainingId: string, step: number, evaluationId: string): Promise<void> {
    await this.redis.zadd(this.keys.jobEvaluations(trainingId), step, evaluationId);
  }

  /** A training job's evaluation jobs, by checkpoint step. */
  async list(trainingId: string): Promise<{ step: number; jobId: string }[]> {
    const flat = await this.redis.zrange(this.keys.jobEvaluations(trainingId), 0, -1, 'WITHSCORES');
    const out: { step: number; jobId: string }[] = [];
    for (let n = 0; n + 1 < flat.length; n += 2) out.push({ jobId: flat[n]!, step: Number(flat[n + 1]) });
    return out;
  }
}
