import { randomUUID } from 'node:crypto';
import { Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PoolQueues } from '../pool-queues';
import { leasedTaskEnv, oncePerKey, type LeasedTask, type LeaseOutcome } from './leased-task';
import { ProgressBatcher } from './progress-batcher';
import { LeaseRecords, snapshotOf, type LeaseRecord } from './lease-records';
import { heldLease, leasedBullJob } from './lease-lost';
import { completeLeases, type Completion, type CompletionResult } from './lease-completion';
import { LeaseQueueWorkers } from './lease-queue-workers';
import { PoolDispatchLatency } from './pool-dispatch-latency';
import {
  admit,
  deliveryOf,
  isTerminal,
  JobSpecCache,
  KumoError,
  Keys,
  moveByHand,
  settleAdmission,
  type Bus,
  type CachedJob,
  type Clock,
  type JobStore,
  type Logger,
  type Principal,
  type Settlement,
  type TaskData,
  type TaskEvent,
} from '@kumo/shared';

/**
 * Leases tasks to workers that speak only HTTPS (contributors' own machines): the API takes a task
 * from the pool's BullMQ queue with a lock token on the worker's behalf, the worker keeps the lock
 * alive with heartbeats, and reports the outcome. A worker that vanishes stops renewing, the lock
 * expires, and BullMQ's stall check puts the task back: no task is held by two workers at once. Each
 * lease is bound to the token that took it, so a worker reports only tasks it holds. Whether a task
 * runs and what its end means is the task lifecycle's to decide (shared/src/tasks), as for the fleet's
 * own workers: the broker carries it out.
 */
export class LeaseBroker {
  private readonly keys: Keys;
  private readonly records: LeaseRecords;
  /** Task events of the same turn, one bus message per worker. */
  private readonly progress: ProgressBatcher;
  private readonly queueWorkers: LeaseQueueWorkers;
  /** Specs read once; the state read afresh on every lease (stateTtlMs 0), as a worker re-checks it before it starts a task. */
  private readonly jobs: JobSpecCache;
  private readonly latency: PoolDispatchLatency;
  readonly leaseMs: number;

  constructor(
    private readonly opts: {
      redis: Redis;
      queues: PoolQueues;
      redisUrl: string;
      prefix: string;
      jobs: JobStore;
      bus: Bus;
      clock: Clock;
      logger: Logger;
      leaseSeconds?: number;
    },
  ) {
    this.keys = new Keys(opts.prefix);
    this.leaseMs = (opts.leaseSeconds ?? 60) * 1000;
    this.records = new LeaseRecords(opts.redis, this.keys, this.leaseMs);
    this.progress = new ProgressBatcher(opts.bus);
    this.queueWorkers = new LeaseQueueWorkers({
      redisUrl: opts.redisUrl,
      keys: this.keys,
      leaseMs: this.leaseMs,
      logger: opts.logger,
    });
    this.latency = new PoolDispatchLatency({
      redis: opts.redis,
      keys: this.keys,
      clock: opts.clock,
      logger: opts.logger,
    });
    this.jobs = new JobSpecCache(opts.jobs, { clock: opts.clock, stateTtlMs: 0 });
  }

  private queue(pool: string): Queue<TaskData> {
    return this.opts.queues.forPool(pool) as Queue<TaskData>;
  }

  async lease(who: Principal, workerId: string, pool: string, max: number): Promise<LeasedTask[]> {
    // Here, not only in the route: whoever calls, a worker token takes its own pool's tasks only.
    if (who.role === 'worker' && who.pool !== pool)
      throw new KumoError('FORBIDDEN', `this worker token is for pool '${who.pool}', not '${pool}'`);
    const w = this.queueWorkers.worker(pool);
    const out: LeasedTask[] = [];
    const events: TaskEvent[] = [];
    // Each job's state is read afresh once per call (as a worker re-checks it before it starts a
    // task), not once per task: the call's tasks are admitted on the same reading.
    const metaOf = oncePerKey((jobId) => this.jobs.get(jobId));
    for (let tries = 0; out.length < max && tries < max * 4;) {
      const n = Math.min(max - out.length, max * 4 - tries);
      tries += n;
      // A call's tasks are taken and admitted together: their Redis commands are in flight at once (their
      // round trips overlap) instead of a dozen in a row per task. Each take is still one atomic moveToActive.
      const taken = (await Promise.all(Array.from({ length: n }, () => this.take(w)))).filter((t) => t !== undefined);
      const leased = (
        await Promise.all(taken.map((t) => this.admitOne(who, workerId, pool, t.job, t.token, metaOf)))
      ).filter((l) => l !== undefined);
      // Their records in one round trip, each written before its task is handed out.
      await this.records.writeMany(leased.map((l) => ({ leaseId: l.task.leaseId, rec: l.rec })));
      for (const l of leased) {
        out.push(l.task);
        events.push(l.event);
      }
      if (taken.length < n) break; // the queue is empty
    }
    if (events.length) await this.progress.publish(workerId, events);
    return out;
  }

  private async take(w: Worker<TaskData>): Promise<{ job: Job<TaskData>; token: string } | undefined> {
    const token = randomUUID();
    const job = await w.getNextJob(token, { block: false });
    return job ? { job, token } : undefined;
  }

  /** One taken task: leased (its record to write) if the lifecycle admits it, else settled here. */
  private async admitOne(
    who: Principal,
    workerId: string,
    pool: string,
    job: Job<TaskData>,
    token: string,
    metaOf: (jobId: string) => Promise<CachedJob | undefined>,
  ): Promise<{ task: LeasedTask; event: TaskEvent; rec: LeaseRecord } | undefined> {
    const { j: jobId, i: index } = job.data;
    const delivery = deliveryOf(job);
    const { attempt } = delivery;
    if (job.attemptsStarted <= 1 && job.processedOn)
      this.latency.of(pool).observe((job.processedOn - job.timestamp) / 1000);
    const [meta, taskDone] = await Promise.all([metaOf(jobId), this.opts.jobs.isTaskDone(jobId, index)]);
    const now = this.opts.clock.now();
    const base = { j: jobId, i: index, a: attempt, w: workerId, o: who.name, at: now };
    const admission = admit({ job: meta, delivery, taskDone, runsGangs: false, pool });
    if (admission.verdict !== 'run') {
      if (admission.verdict === 'skip' && admission.why === 'other-pool')
        this.opts.logger.warn(
          { jobId, index, pool, jobPool: meta?.spec.pool },
          'a task of another pool in this queue, dropped',
        );
      await this.settleHere(job, token, base, settleAdmission(admission, now));
      return undefined;
    }
    let env: Record<string, string>;
    try {
      env = await leasedTaskEnv(this.opts.jobs, { jobId, spec: meta!.spec, index, attempt, workerId });
    } catch (err) {
      // A task that cannot be described (a listing job without its lines) fails for good, alone.
      if (!(err instanceof KumoError) || err.retryable) throw err;
      await this.settleHere(
        job,
        token,
        base,
        settleAdmission({ verdict: 'fail', error: { code: err.code, message: err.message, retryable: false } }, now),
      );
      return undefined;
    }
    const bullId = job.id!;
    const rec: LeaseRecord = {
      bullId,
      jobId,
      index,
      attempt,
      pool,
      workerId,
      tokenId: who.tokenId,
      owner: who.name,
      startedAt: now,
      lockKey: this.records.lockKey(pool, bullId),
      job: snapshotOf(job),
    };
    const { spec, policy } = meta!;
    return {
      task: {
        leaseId: token,
        jobId,
        index,
        attempt,
        kind: spec.kind,
        run: spec.run,
        env,
        timeoutMs: policy.timeoutMs,
        stopGraceMs: policy.stopGraceMs,
        leaseSeconds: this.leaseMs / 1000,
      },
      event: { ...base, t: 's' },
      rec,
    };
  }

  /** A task not admitted: its event (a failure) on the bus first, then its queue move. */
  private async settleHere(
    job: Job<TaskData>,
    token: string,
    base: Omit<TaskEvent, 't'>,
    s: Settlement,
  ): Promise<void> {
    if (s.event) await this.progress.publish(base.w, [{ ...base, ...s.event }]);
    await moveByHand(job, token, s.move);
  }

  /** The task a held lease is for, to its holder only: where an HTTPS worker's task log goes. */
  async leasedTask(who: Principal, leaseId: string): Promise<{ jobId: string; index: number; attempt: number }> {
    const { jobId, index, attempt } = await heldLease(this.records, who, leaseId);
    return { jobId, index, attempt };
  }

  /** Renews each lease; answers which are still held and which tasks should stop (their job ended). */
  async heartbeat(who: Principal, leaseIds: string[]): Promise<{ held: string[]; lost: string[]; stop: string[] }> {
    // Each job's state read once per heartbeat, whatever number of its tasks the worker holds.
    const stateOf = oncePerKey((jobId) => this.opts.jobs.state(jobId));
    // All of them at once: their reads and renewals share round trips.
    const verdicts = await Promise.all(
      leaseIds.map(async (leaseId): Promise<'held' | 'lost' | 'stop'> => {
        try {
          const rec = await heldLease(this.records, who, leaseId);
          const job = await leasedBullJob(this.queue(rec.pool), rec);
          const [extended, , state] = await Promise.all([
            job.extendLock(leaseId, this.leaseMs),
            this.records.renew(leaseId),
            stateOf(rec.jobId),
          ]);
          // The lock went between the read and the renewal: lost, as if it had gone before.
          if (!extended) return 'lost';
          return state === undefined || isTerminal(state) ? 'stop' : 'held';
        } catch (err) {
          if (err instanceof KumoError && err.code === 'FORBIDDEN') throw err;
          return 'lost';
        }
      }),
    );
    const res = { held: [] as string[], lost: [] as string[], stop: [] as string[] };
    leaseIds.forEach((id, n) => res[verdicts[n]!].push(id));
    return res;
  }

  /** Ends a lease (completeLeases): throws what refused it (LEASE_LOST, FORBIDDEN). */
  async complete(
    who: Principal,
    leaseId: string,
    o: LeaseOutcome & { durationMs?: number },
  ): Promise<{ final: boolean }> {
    const r = (await this.completeMany(who, [{ ...o, leaseId }]))[0]!;
    if ('error' in r) throw r.error;
    return { final: r.final };
  }

  /** Ends up to MAX_COMPLETIONS_PER_CALL leases together, answering each on its own (lease-completion.ts). */
  completeMany(who: Principal, items: readonly Completion[]): Promise<CompletionResult[]> {
    return completeLeases(
      {
        records: this.records,
        queue: (pool) => this.queue(pool),
        jobs: this.jobs,
        progress: this.progress,
        clock: this.opts.clock,
      },
      who,
      items,
    );
  }

  /** A checkpoint or in-task progress line from an HTTPS worker's task. */
  async report(who: Principal, leaseId: string, kind: 'c' | 'p', data: Record<string, unknown>): Promise<void> {
    const rec = await heldLease(this.records, who, leaseId);
    await this.opts.bus.publish('progress', {
      workerId: rec.workerId,
      events: [
        { t: kind, j: rec.jobId, i: rec.index, a: rec.attempt, w: rec.workerId, at: this.opts.clock.now(), data },
      ],
    });
  }

  async close(): Promise<void> {
    await this.latency.close();
    await this.queueWorkers.close();
  }
}
