import type { EffectivePolicy } from '../catalog/index';

/** One BullMQ job per task, with tiny data: the worker reads the job's spec once and caches it. */
export interface TaskData {
  /** kumo job id */
  j: string;
  /** task index */
  i: number;
  /** Hand-backs so far (preemption, drain): they use the infrastructure budget, never an attempt. */
  h?: number;
}

/** The BullMQ queue of a pool. */
export function queueName(pool: string): string {
  return `tasks-${pool}`;
}

/** A task's queue id: the same task fed twice dedupes in BullMQ while the first is still there. */
export function taskQueueId(jobId: string, index: number): string {
  return `${jobId}.${index}`;
}

export function taskJobOptions(jobId: string, index: number, policy: EffectivePolicy) {
  return {
    jobId: taskQueueId(jobId, index),
    attempts: policy.maxAttempts,
    backoff: { type: 'exponential' as const, delay: policy.backoffMs },
    // kumo keeps its own ledger of outcomes; BullMQ only holds tasks in flight.
    removeOnComplete: true,
    removeOnFail: true,
  };
}
