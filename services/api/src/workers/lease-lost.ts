import { Job, type Queue } from 'bullmq';
import { KumoError, type Principal, type TaskData } from '@kumo/shared';
import { jobOf, type LeaseRead, type LeaseRecord, type LeaseRecords } from './lease-records';

// When a lease counts as lost (CONFLICT, reason LEASE_LOST): apart from the broker, which asks these before it acts.

/** The lease, if `who` holds it; LEASE_LOST (409) once it expired or went to another worker. */
export async function heldLease(records: LeaseRecords, who: Principal, leaseId: string): Promise<LeaseRecord> {
  return leaseHeld(records, who, leaseId, await records.read(leaseId));
}

/** As heldLease, on a lease read already (LeaseRecords.readMany: a batch's leases read together). */
export async function leaseHeld(
  records: LeaseRecords,
  who: Principal,
  leaseId: string,
  got: LeaseRead | undefined,
): Promise<LeaseRecord> {
  if (!got)
    throw new KumoError('CONFLICT', `lease '${leaseId}' is not held (expired, or never granted)`, {
      details: { reason: 'LEASE_LOST' },
    });
  const { rec, lock } = got;
  if (rec.tokenId !== who.tokenId) throw new KumoError('FORBIDDEN', 'that lease belongs to another worker');
  if (who.role === 'worker' && rec.pool !== who.pool)
    throw new KumoError('FORBIDDEN', `this worker token is for pool '${who.pool}', not '${rec.pool}'`);
  // The queue's lock is the truth: once it expired (and the task went back, perhaps to another
  // worker) this lease is over, whatever its record says.
  if (lock !== leaseId) {
    await records.drop(leaseId);
    throw new KumoError('CONFLICT', `lease '${leaseId}' expired; the task went back to the queue`, {
      details: { reason: 'LEASE_LOST' },
    });
  }
  return rec;
}

/** The leased task's BullMQ entry in its pool's queue; LEASE_LOST once it is gone. */
export async function leasedBullJob(queue: Queue<TaskData>, rec: LeaseRecord): Promise<Job<TaskData>> {
  const job = jobOf(queue, rec) ?? (await Job.fromId<TaskData>(queue, rec.bullId));
  if (!job)
    throw new KumoError('CONFLICT', 'the leased task is gone from the queue', { details: { reason: 'LEASE_LOST' } });
  return job;
}

/** A queue move that failed because the lock went meanwhile is a lost lease, not a server error. */
export async function moveOrLost(leaseId: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    throw new KumoError('CONFLICT', `lease '${leaseId}' was lost while completing`, {
      cause: err,
      details: { reason: 'LEASE_LOST' },
    });
  }
}
