import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { defineScript, queueName, reply, taskLockKey, type Keys, type TaskData } from '@kumo/shared';

/**
 * What of a leased BullMQ entry its queue moves read (moveByHand: id, data, opts, attempts made).
 * None of it changes while the lease holds the entry's lock, so it is kept with the lease instead of
 * being read back (a whole HGETALL) on every outcome.
 */
interface JobSnapshot {
  name: string;
  /** JSON, as BullMQ keeps them in the entry's hash. */
  data: string;
  opts: string;
  timestamp: number;
  attemptsMade: number;
  attemptsStarted: number;
  stalledCounter: number;
}

export interface LeaseRecord {
  bullId: string;
  jobId: string;
  index: number;
  attempt: number;
  pool: string;
  workerId: string;
  tokenId: string;
  /** The worker token's name: who the contributors table credits (events' `o`). */
  owner?: string;
  startedAt: number;
  /** The task's BullMQ lock (taskLockKey): read with the record, in one round trip. Absent in records written before it. */
  lockKey?: string;
  /** Absent in records written before it: the entry is then read from the queue. */
  job?: JobSnapshot;
}

/** A lease as read: its record, and the token its task's lock holds now (undefined: no lock). */
export interface LeaseRead {
  rec: LeaseRecord;
  lock: string | undefined;
}

const readLease = defineScript(
  new URL('./lua/readLease-1.lua', import.meta.url),
  ['lease'],
  reply.array<[string?, string?]>,
);

const readLeases = defineScript(new URL('./lua/readLeases-0.lua', import.meta.url), [], reply.array<string[]>);

export function snapshotOf(job: Job<TaskData>): JobSnapshot {
  return {
    name: job.name,
    data: JSON.stringify(job.data),
    opts: JSON.stringify(Job.optsAsJSON(job.opts)),
    timestamp: job.timestamp,
    attemptsMade: job.attemptsMade,
    attemptsStarted: job.attemptsStarted,
    stalledCounter: job.stalledCounter,
  };
}

/** The leased entry as a BullMQ Job to move, from its snapshot; undefined when the record has none. */
export function jobOf(queue: Queue<TaskData>, rec: LeaseRecord): Job<TaskData> | undefined {
  const s = rec.job;
  if (!s) return undefined;
  return Job.fromJSON<TaskData>(queue, {
    id: rec.bullId,
    name: s.name,
    data: s.data,
    opts: s.opts,
    timestamp: String(s.timestamp),
    delay: '0',
    priority: '0',
    progress: '0',
    failedReason: '',
    returnvalue: '',
    atm: String(s.attemptsMade),
    ats: String(s.attemptsStarted),
    stc: String(s.stalledCounter),
  });
}

/**
 * Lease records in Redis: one key per lease id (the lock's token), living twice the lease so that a
 * lease past its lock is still told apart from one never granted. Whether a lease is held is decided
 * by its task's lock, read with the record (readLease-1.lua).
 */
export class LeaseRecords {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly leaseMs: number,
  ) {}

  /** The Redis key of a pool's task's BullMQ lock. */
  lockKey(pool: string, bullId: string): string {
    return taskLockKey(this.keys, queueName(pool), bullId);
  }

  write(leaseId: string, rec: LeaseRecord): Promise<unknown> {
    return this.redis.set(this.keys.lease(leaseId), JSON.stringify(rec), 'PX', this.leaseMs * 2);
  }

  /** Many records in one round trip (a lease call's): one write to Redis instead of one per task. */
  async writeMany(recs: readonly { leaseId: string; rec: LeaseRecord }[]): Promise<void> {
    if (recs.length === 0) return;
    const p = this.redis.pipeline();
    for (const { leaseId, rec } of recs) p.set(this.keys.lease(leaseId), JSON.stringify(rec), 'PX', this.leaseMs * 2);
    for (const [err] of (await p.exec()) ?? []) if (err) throw err;
  }

  /** The record and its task's lock; undefined when there is no record. */
  async read(leaseId: string): Promise<LeaseRead | undefined> {
    const [raw, lock] = await readLease.run(this.redis, { lease: this.keys.lease(leaseId) }, []);
    if (raw === undefined) return undefined;
    return this.withLock(JSON.parse(raw) as LeaseRecord, lock);
  }

  /** A record with its lock as the script read it (undefined: not read, a record from before `lockKey`). */
  private async withLock(rec: LeaseRecord, lock: string | undefined): Promise<LeaseRead> {
    if (lock !== undefined) return { rec, lock: lock || undefined };
    // A record from before `lockKey`: its lock read apart, as it was then.
    return { rec, lock: (await this.redis.get(this.lockKey(rec.pool, rec.bullId))) ?? undefined };
  }

  /** Many leases, as `read` reads one, in one round trip: a batched completion's. */
  async readMany(leaseIds: readonly string[]): Promise<(LeaseRead | undefined)[]> {
    if (leaseIds.length === 0) return [];
    const flat = await readLeases.run(
      this.redis,
      {},
      leaseIds.map((id) => this.keys.lease(id)),
    );
    return Promise.all(
      leaseIds.map(async (_, n): Promise<LeaseRead | undefined> => {
        const [raw, known, lock] = [flat[3 * n], flat[3 * n + 1], flat[3 * n + 2]];
        if (!raw) return undefined;
        return this.withLock(JSON.parse(raw) as LeaseRecord, known === '1' ? lock : undefined);
      }),
    );
  }

  renew(leaseId: string): Promise<unknown> {
    return this.redis.pexpire(this.keys.lease(leaseId), this.leaseMs * 2);
  }

  drop(leaseId: string): Promise<unknown> {
    return this.redis.del(this.keys.lease(leaseId));
  }

  /** Many records gone in one command. */
  async dropMany(leaseIds: readonly string[]): Promise<void> {
    if (leaseIds.length) await this.redis.del(...leaseIds.map((id) => this.keys.lease(id)));
  }
}
