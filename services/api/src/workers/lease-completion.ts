import type { Job, Queue } from 'bullmq';
import {
  isTerminal,
  KumoError,
  moveByHand,
  settle,
  type CachedJob,
  type Clock,
  type JobSpecCache,
  type Principal,
  type QueueMove,
  type TaskData,
  type TaskEnd,
} from '@kumo/shared';
import { oncePerKey, type LeaseOutcome } from './leased-task';
import { leasedBullJob, leaseHeld, moveOrLost } from './lease-lost';
import type { LeaseRead, LeaseRecords } from './lease-records';
import type { ProgressBatcher } from './progress-batcher';

/** One lease's end, as an HTTPS worker reports it. */
export type Completion = LeaseOutcome & { leaseId: string; durationMs?: number };

/**
 * One lease's answer: ended (`final`: the task left the queue for good, not retried or handed back), or
 * refused with the error the single call would have thrown (LEASE_LOST, FORBIDDEN, or a failure to retry).
 */
export type CompletionResult = { leaseId: string; final: boolean } | { leaseId: string; error: unknown };

export interface CompletionDeps {
  records: LeaseRecords;
  queue: (pool: string) => Queue<TaskData>;
  jobs: JobSpecCache;
  progress: ProgressBatcher;
  clock: Clock;
}

/**
 * Ends leases, each as the lifecycle settles it: its outcome on the bus first (the count), then its queue
 * move (the task leaves the queue). A batch shares its round trips: the leases are read in one script
 * call, their events go out as one bus message per worker (ProgressBatcher: one turn), and their records
 * are dropped in one command beside the moves. Each lease is answered on its own: one lost lease
 * refuses that one only. A lease whose event could not be published is neither moved nor dropped; the
 * worker asks again.
 */
export async function completeLeases(
  d: CompletionDeps,
  who: Principal,
  items: readonly Completion[],
): Promise<CompletionResult[]> {
  // Two ends of one lease in one call would both find it held, and both be counted.
  if (new Set(items.map((c) => c.leaseId)).size !== items.length)
    throw new KumoError('INVALID_INPUT', 'each lease may be ended at most once per call');
  const reads = await d.records.readMany(items.map((c) => c.leaseId));
  // Only a hand-back asks whether the job ended: each job's state read once per call.
  const stateOf = oncePerKey((jobId) => d.jobs.get(jobId));
  const announced = await Promise.all(
    items.map((c, n) => announce(d, who, c, reads[n], stateOf).catch((error: unknown) => ({ error }))),
  );
  const ended = announced.flatMap((a, n) => ('error' in a ? [] : [items[n]!.leaseId]));
  // The records go with the moves, in the same round trips: once an outcome is on the bus its lease is
  // over, whether the move finds the lock or not.
  const [moved] = await Promise.all([
    Promise.all(
      announced.map(async (a, n) => {
        if ('error' in a) return a;
        const leaseId = items[n]!.leaseId;
        try {
          await moveOrLost(leaseId, () => moveByHand(a.job, leaseId, a.move));
          return { final: a.move.move === 'complete' || a.move.move === 'fail' };
        } catch (error) {
          return { error };
        }
      }),
    ),
    d.records.dropMany(ended),
  ]);
  return moved.map((m, n) => ({ leaseId: items[n]!.leaseId, ...m }));
}

/** One lease checked and settled, its event on the bus; what is left is its queue move. */
async function announce(
  d: CompletionDeps,
  who: Principal,
  c: Completion,
  got: LeaseRead | undefined,
  stateOf: (jobId: string) => Promise<CachedJob | undefined>,
): Promise<{ job: Job<TaskData>; move: QueueMove }> {
  const rec = await leaseHeld(d.records, who, c.leaseId, got);
  const job = await leasedBullJob(d.queue(rec.pool), rec);
  // The other outcomes need the job's policy, which never changes.
  const meta = c.outcome === 'released' ? await stateOf(rec.jobId) : await d.jobs.fixed(rec.jobId);
  const now = d.clock.now();
  // A released task is handed back as a draining agent hands its tasks back (no attempt, one
  // infrastructure loss), or, its job ended (the heartbeat said stop), stopped as a cancelled one is.
  const end: TaskEnd =
    c.outcome === 'succeeded'
      ? { end: 'succeeded', ...(c.result ? { result: c.result } : {}) }
      : c.outcome === 'released'
        ? { end: 'stopped', why: !meta || isTerminal(meta.state) ? 'cancel' : 'handback' }
        : { end: 'failed', error: c.error, log: (c.logTail ?? '').slice(-8192) };
  const s = settle(end, rec.attempt, meta?.policy ?? { maxAttempts: 1 }, now);
  if (s.event)
    await d.progress.publish(rec.workerId, [
      {
        j: rec.jobId,
        i: rec.index,
        a: rec.attempt,
        w: rec.workerId,
        ...(rec.owner ? { o: rec.owner } : {}),
        at: now,
        d: c.durationMs ?? now - rec.startedAt,
        ...s.event,
      },
    ]);
  return { job, move: s.move };
}
