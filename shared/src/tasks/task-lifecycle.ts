import { gangOf, isFinalFailure, type EffectivePolicy, type JobSpec } from '../catalog/index';
import { isTerminal, type JobState } from '../jobs/job-state';
import type { TaskError, TaskEvent } from '../progress/task-event';
import type { TaskData } from '../queue/task-queue';

/**
 * A task's life on a worker, decided here for every kind of worker (the Redis-side agent and the
 * HTTPS lease broker alike), so that they cannot disagree:
 *
 *   leased ──admit──► run ──► succeeded | failed | stopped(why) ──settle──► event + queue move
 *     └────────────► wait (paused job, gang elsewhere) | skip (job ended, task done) | fail (infra budget)
 *
 * Each decision names the TaskEvent the job's counts get and how the task's BullMQ entry moves; the
 * workers only carry them out (./queue-moves.ts).
 */

/**
 * BullMQ's own limit on stalls, set far above any job's `maxInfraRetries` (at most 100): kumo counts a
 * task's stalls against its job's infrastructure budget when the task is next leased. Reaching
 * BullMQ's limit would fail and delete the task behind kumo's back, and its job would wait for it forever.
 */
export const QUEUE_MAX_STALLED = 1000;

/**
 * The most task ends one `POST /v1/workers/complete` carries: what an HTTPS agent's slots free at once,
 * well inside the API's body limit. The API refuses more; the agent sends no more.
 */
export const MAX_COMPLETIONS_PER_CALL = 64;

/** How often a task of a paused job comes back to see whether the job was resumed. */
export const PAUSED_RECHECK_MS = 3000;

/** The BullMQ Worker settings every consumer of a pool's queue uses: the lock, its stall check, the stall limit. */
export function queueWorkerTiming(lockMs: number): {
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
} {
  return {
    lockDuration: lockMs,
    stalledInterval: Math.max(1000, Math.floor(lockMs / 2)),
    maxStalledCount: QUEUE_MAX_STALLED,
  };
}

/** What the lifecycle needs of a job: its state now, its spec, its policy. */
export interface JobView {
  state: JobState;
  spec: JobSpec;
  policy: EffectivePolicy;
}

/** What the lifecycle needs of one delivery of a task (a BullMQ job taken with a lock token). */
export interface TaskDelivery {
  /** 1-based: failed attempts so far, plus one. Losses and hand-backs use none. */
  attempt: number;
  /** Infrastructure losses so far: workers that vanished holding it (stalls) and hand-backs. */
  infraLosses: number;
}

/** A BullMQ job's delivery, read the one way both workers read it. */
export function deliveryOf(job: { attemptsMade: number; stalledCounter: number; data: TaskData }): TaskDelivery {
  return { attempt: job.attemptsMade + 1, infraLosses: job.stalledCounter + (job.data.h ?? 0) };
}

/** Whether a delivered task runs now. */
export type Admission =
  | { verdict: 'run' }
  /** Not now: back to the queue for `retryInMs`, no attempt and no infrastructure loss used. */
  | {
      verdict: 'wait';
      why: 'paused' | 'gang-not-here';
      retryInMs: number;
      /**
       * Whether the wait reports a hand-back (`rel`). A task lost by its worker (a stall, a lost lock)
       * is still counted as running by that copy's `s`, and the lost copy reports nothing (it cannot
       * know whether another delivery is counted already). While its job is paused this delivery only
       * waits, so it frees that place itself; with no running entry the `rel` changes nothing.
       */
      release?: boolean;
    }
  /** Never: its job is gone or ended, or the task is final already (a copy of it was counted). */
  | { verdict: 'skip'; why: 'job-gone' | 'job-ended' | 'task-done' | 'other-pool' }
  /** Never, and the task fails for good. */
  | { verdict: 'fail'; error: TaskError };

export interface AdmitInput {
  job: JobView | undefined;
  delivery: TaskDelivery;
  /** Whether the task is final already (its bit in the job's done bitmap): checked on every attempt,
   * since a task whose worker was lost comes back with the same attempt number. */
  taskDone: boolean;
  /** Whether this worker can run a gang rank (meet its peers through Redis); HTTPS workers cannot. */
  runsGangs: boolean;
  /** The pool whose queue the task came from. */
  pool: string;
}

export function admit(i: AdmitInput): Admission {
  if (!i.job) return { verdict: 'skip', why: 'job-gone' };
  if (isTerminal(i.job.state)) return { verdict: 'skip', why: 'job-ended' };
  // An entry naming another pool's job (the feeder never writes one): not this pool's workers' to run.
  if (i.job.spec.pool !== i.pool) return { verdict: 'skip', why: 'other-pool' };
  if (i.taskDone) return { verdict: 'skip', why: 'task-done' };
  if (i.job.state === 'paused')
    return { verdict: 'wait', why: 'paused', retryInMs: PAUSED_RECHECK_MS, release: i.delivery.infraLosses > 0 };
  if (!i.runsGangs && gangOf(i.job.spec))
    return { verdict: 'wait', why: 'gang-not-here', retryInMs: PAUSED_RECHECK_MS };
  const budget = i.job.policy.maxInfraRetries;
  if (i.delivery.infraLosses > budget) {
    return {
      verdict: 'fail',
      error: {
        code: 'INFRA_BUDGET_EXHAUSTED',
        message: `lost ${i.delivery.infraLosses} times to infrastructure (budget ${budget})`,
        retryable: false,
      },
    };
  }
  return { verdict: 'run' };
}

/**
 * Why a running task was stopped before it ended on its own:
 * - `cancel`   its job ended (cancelled, or finished by other copies)
 * - `handback` the worker is going away (preemption, drain): an infrastructure loss, no attempt
 * - `gang`     its gang's generation ended: handed back like a preempted rank
 * - `paused`   its job was paused while it waited for its gang: held, no loss at all
 * - `lost`     its lock went (the worker froze past it): the task is someone else's now
 * - `preempted` a job of higher priority takes its slot (a pool that allows it): handed back, no
 *              attempt used and no infrastructure loss either, since the task did nothing wrong and
 *              a long low-priority task may be preempted many times
 */
export type StopReason = 'cancel' | 'handback' | 'gang' | 'paused' | 'lost' | 'preempted';

/** How a task that ran ended. */
export type TaskEnd =
  | { end: 'succeeded'; result?: Record<string, unknown> }
  | { end: 'failed'; error: TaskError; log?: string }
  | { end: 'stopped'; why: StopReason };

/** How a task's BullMQ entry moves, by the worker that holds its lock. */
export type QueueMove =
  /** Leaves the queue (kumo keeps the outcome). */
  | { move: 'complete'; value: string }
  /** This attempt failed: BullMQ retries it after the policy's backoff, one attempt used. */
  | { move: 'retry'; error: TaskError }
  /** Fails for good: no retry, whatever attempts are left. */
  | { move: 'fail'; error: TaskError }
  /** Back to the queue until `at`, no attempt used; `handBack` counts it as an infrastructure loss. */
  | { move: 'delay'; at: number; handBack: boolean }
  /** Untouched: the lock is not ours any more, whoever holds it moves it. */
  | { move: 'leave' };

/** What a decision reports and does: the event for the job's counts (none for some), and the move. */
export interface Settlement {
  event?: Pick<TaskEvent, 't' | 'err' | 'log' | 'result'>;
  move: QueueMove;
}

/** The settlement of a task that was not admitted. */
export function settleAdmission(a: Exclude<Admission, { verdict: 'run' }>, now: number): Settlement {
  switch (a.verdict) {
    case 'skip':
      return { move: { move: 'complete', value: 'skipped' } };
    case 'wait':
      return {
        ...(a.release ? { event: { t: 'rel' as const } } : {}),
        move: { move: 'delay', at: now + a.retryInMs, handBack: false },
      };
    case 'fail':
      return { event: { t: 'f', err: a.error }, move: { move: 'fail', error: a.error } };
  }
}

/**
 * The settlement of a task that ran. `lockHeld`: whether this delivery still held the task's lock when
 * it ended. One that lost it (its worker froze past it) moves nothing, the entry is another delivery's
 * now, and reports only a success: a fact that makes the task final once, whoever else runs it. Its
 * failure or stop would take the other delivery out of the running count, or fail a task that runs on.
 */
export function settle(
  end: TaskEnd,
  attempt: number,
  policy: Pick<EffectivePolicy, 'maxAttempts'>,
  now: number,
  lockHeld = true,
): Settlement {
  if (!lockHeld)
    return end.end === 'succeeded'
      ? { event: settle(end, attempt, policy, now).event!, move: { move: 'leave' } }
      : { move: { move: 'leave' } };
  switch (end.end) {
    case 'succeeded':
      return {
        event: { t: 'ok', ...(end.result ? { result: end.result } : {}) },
        move: { move: 'complete', value: 'ok' },
      };
    case 'failed': {
      const final = isFinalFailure(end.error.retryable, attempt, policy);
      const event = { t: final ? ('f' as const) : ('r' as const), err: end.error, log: end.log ?? '' };
      return { event, move: final ? { move: 'fail', error: end.error } : { move: 'retry', error: end.error } };
    }
    case 'stopped':
      switch (end.why) {
        // Its job ended: nothing left to do, and the hand-back frees its place in the running count.
        case 'cancel':
          return { event: { t: 'rel' }, move: { move: 'complete', value: 'cancelled' } };
        case 'paused':
          return { event: { t: 'rel' }, move: { move: 'delay', at: now + PAUSED_RECHECK_MS, handBack: false } };
        case 'handback':
        case 'gang':
          return { event: { t: 'rel' }, move: { move: 'delay', at: now, handBack: true } };
        case 'preempted':
          return { event: { t: 'rel' }, move: { move: 'delay', at: now, handBack: false } };
        // Another delivery of the task is (or will be) counted as started; a `rel` from this copy would
        // take that one out of the running count.
        case 'lost':
          return { move: { move: 'leave' } };
      }
  }
}
