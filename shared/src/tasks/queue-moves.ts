import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { TaskData } from '../queue/task-queue';
import type { QueueMove } from './task-lifecycle';

/**
 * Carries out a QueueMove from inside a BullMQ processor, where BullMQ itself moves the entry by what
 * the processor returns or throws: a value completes it, an Error retries it, an UnrecoverableError
 * fails it, and a DelayedError leaves it where the processor put it (or where it is: a lost lock).
 */
export async function moveInProcessor(job: Job<TaskData>, token: string | undefined, m: QueueMove): Promise<string> {
  switch (m.move) {
    case 'complete':
      return m.value;
    case 'retry':
      throw new Error(`${m.error.code}: ${m.error.message}`);
    case 'fail':
      throw new UnrecoverableError(`${m.error.code}: ${m.error.message}`);
    case 'delay':
      await delay(job, token, m);
      throw new DelayedError();
    case 'leave':
      throw new DelayedError();
  }
}

/** Carries out a QueueMove by hand, for an entry taken with `getNextJob` (the lease broker's). */
export async function moveByHand(job: Job<TaskData>, token: string, m: QueueMove): Promise<void> {
  switch (m.move) {
    case 'complete':
      await job.moveToCompleted(m.value, token, false);
      return;
    case 'fail':
      // Discarded first: a final failure must not be retried by the queue.
      job.discard();
      await job.moveToFailed(new Error(`${m.error.code}: ${m.error.message}`), token, false);
      return;
    case 'retry':
      await job.moveToFailed(new Error(`${m.error.code}: ${m.error.message}`), token, false);
      return;
    case 'delay':
      await delay(job, token, m);
      return;
    case 'leave':
      return;
  }
}

async function delay(
  job: Job<TaskData>,
  token: string | undefined,
  m: Extract<QueueMove, { move: 'delay' }>,
): Promise<void> {
  // A hand-back is counted on the entry itself, so whoever takes it next sees the loss.
  if (m.handBack) await job.updateData({ ...job.data, h: (job.data.h ?? 0) + 1 });
  await job.moveToDelayed(m.at, token);
}

/** The Redis key of a task's BullMQ lock: its value is the token of the delivery that holds the task. */
export function taskLockKey(keys: { queuePrefix(): string }, queue: string, queueId: string): string {
  return `${keys.queuePrefix()}:${queue}:${queueId}:lock`;
}
