import type { Redis } from 'ioredis';
import { listJobs } from './list-jobs';
import { createJob } from './create-job';
import { wallClock, type Clock } from '../clock';
import { KumoError } from '../errors';
import type { TaskEvent } from '../progress/task-event';
import { Keys } from '../store/keys';
import { previousJobId } from './job-idempotency';
import { readListing } from './job-listing';
import { storeScripts } from '../store/scripts';
import { statesMovingTo, type JobState } from './job-state';
import { EvaluationLinks } from './evaluation-links';
import {
  jobRecordOf,
  jobViews,
  type CreateJobInput,
  type JobRecord,
  type JobRuntime,
  type ListJobsQuery,
} from './job-record';
import { JobDependencies } from './job-dependencies';
import { ledgerEntryOf, TaskLedger } from './task-ledger';
import { UserBudgets } from './user-budgets';
import { UserShareStore } from './user-shares';
import { DEFAULT_BUDGET_TIME_ZONE, SPEND_MONTH_TTL_S } from '../spend/spend-month';
import { RATE_BUCKET_MS, RATE_BUCKETS, rateBucketFields } from './progress';
import { CONTRIBUTOR_DAYS_KEPT, contributorDay } from './contributors';

/** Jobs in Redis: create, read, list, cancel, and the exact, idempotent application of task events. */
export class JobStore {
  readonly keys: Keys;
  private readonly clock: Clock;
  private readonly inFlight = new Map<string, Promise<JobRecord | undefined>>();

  /** What tasks reported: results and failures, by task index. */
  readonly ledger: TaskLedger;
  /** Which evaluation jobs a training job's checkpoints started. */
  readonly evaluations: EvaluationLinks;
  /** Users' spend and budgets. */
  readonly budgets: UserBudgets;
  /** Users' weights and slot caps (fair share). */
  readonly shares: UserShareStore;
  /** What the feeder records of a job's dependencies. */
  readonly dependencies: JobDependencies;

  constructor(
    private readonly redis: Redis,
    opts: { prefix?: string; clock?: Clock; budgetTimeZone?: string } = {},
  ) {
    this.keys = new Keys(opts.prefix);
    this.clock = opts.clock ?? wallClock;
    this.ledger = new TaskLedger(redis, this.keys);
    this.evaluations = new EvaluationLinks(redis, this.keys);
    this.budgets = new UserBudgets(redis, this.keys, this.clock, opts.budgetTimeZone ?? DEFAULT_BUDGET_TIME_ZONE);
    this.shares = new UserShareStore(redis, this.keys);
    this.dependencies = new JobDependencies(redis, this.keys);
  }

  /** Creates a job, or returns the one its idempotency key already names (create-job.ts). */
  create(input: CreateJobInput): Promise<{ job: JobRecord; created: boolean }> {
    return createJob({ redis: this.redis, keys: this.keys, clock: this.clock, get: (id) => this.get(id) }, input);
  }

  /**
   * The job an idempotency key already names, if the request it was used for had this fingerprint
   * source; IDEMPOTENCY_KEY_REUSED if it had another; undefined if the key is unused. Lets the API answer
   * a repeat without redoing expensive work (reading a listing) that create() would then discard.
   */
  async findIdempotent(scope: string, key: string, fingerprintSource: unknown): Promise<JobRecord | undefined> {
    const prevId = await previousJobId(this.redis, this.keys.idempotency(scope, key), fingerprintSource);
    return prevId === undefined ? undefined : this.get(prevId);
  }

  /** Lines [from, to) of a listing job's stored listing: the inputs of its tasks. */
  listedInputs(jobId: string, from: number, to: number): Promise<string[]> {
    return readListing(this.redis, this.keys.jobListing(jobId), from, to);
  }

  /**
   * One job, for hot read paths (GET /v1/jobs/:id polled by many): reads of the same job that overlap
   * share one round trip; a read that starts after another finished reads afresh. Never use it to read
   * back one's own write (an overlapping read may have started before it): use get().
   */
  getShared(id: string): Promise<JobRecord | undefined> {
    let p = this.inFlight.get(id);
    if (!p) {
      p = this.get(id).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, p);
    }
    return p;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const now = this.clock.now();
    // Two plain commands, not a pipeline: on an auto-pipelining connection they go out in one write.
    const [h, b] = await Promise.all([
      this.redis.hgetall(this.keys.job(id)),
      this.redis.hmget(this.keys.jobRate(id), ...rateBucketFields(now)),
    ]);
    if (!h.id) return undefined;
    return jobRecordOf(
      h,
      b.map((v) => Number(v ?? 0)),
      now,
    );
  }

  /** One pipelined round trip for any number of jobs. */
  async getMany(ids: string[]): Promise<(JobRecord | undefined)[]> {
    if (ids.length === 0) return [];
    const now = this.clock.now();
    const buckets = rateBucketFields(now);
    const pipe = this.redis.pipeline();
    for (const id of ids) {
      pipe.hgetall(this.keys.job(id));
      pipe.hmget(this.keys.jobRate(id), ...buckets);
    }
    const out = (await pipe.exec()) ?? [];
    return ids.map((_, n) => {
      const h = out[2 * n]?.[1] as Record<string, string> | undefined;
      const b = (out[2 * n + 1]?.[1] as (string | null)[] | undefined) ?? [];
      if (!h || !h.id) return undefined;
      return jobRecordOf(
        h,
        b.map((v) => Number(v ?? 0)),
        now,
      );
    });
  }

  async runtime(id: string): Promise<JobRuntime | undefined> {
    const rt = await jobViews.runtime.read(this.redis, this.keys, id);
    return rt && { id, ...rt };
  }

  /** Whether task `index` is final already (a repeat attempt of it need not run). */
  async isTaskDone(id: string, index: number): Promise<boolean> {
    return (await this.redis.getbit(this.keys.jobDone(id), index)) === 1;
  }

  /** The furthest checkpoint recorded for the job, if any (what a resumed trainer starts from). */
  async checkpoint(id: string): Promise<{ step: number; uri?: string } | undefined> {
    return (await jobViews.checkpoint.read(this.redis, this.keys, id)) ?? undefined;
  }

  /** Just the state: what a worker re-checks before it starts a task. */
  state(id: string): Promise<JobState | undefined> {
    return jobViews.state.read(this.redis, this.keys, id);
  }

  /** A page of jobs, newest first, filtered (list-jobs.ts). */
  list(q: ListJobsQuery): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
    return listJobs({ redis: this.redis, keys: this.keys, getMany: (ids) => this.getMany(ids) }, q);
  }

  /** Returns the job after the cancel; throws JOB_NOT_FOUND, or JOB_ALREADY_FINISHED (409). */
  async cancel(id: string, reason: string): Promise<JobRecord> {
    return this.end(id, 'cancelled', reason);
  }

  /** Ends a live job from outside its tasks (cancel; a failed dependency). */
  async end(id: string, state: 'cancelled' | 'failed', reason: string): Promise<JobRecord> {
    const owner = await this.owner(id);
    if (owner === undefined) throw new KumoError('JOB_NOT_FOUND', `no job with id '${id}'`);
    const k = this.keys;
    const res = await storeScripts.endJob.run(
      this.redis,
      { job: k.job(id), poolActive: k.poolActive(owner.pool), listing: k.jobListing(id), gang: k.jobGang(id) },
      [id, this.clock.now(), k.controlChannel(), k.jobChangedChannel(), reason, state],
    );
    const job = await this.get(id);
    if (!job) throw new KumoError('JOB_NOT_FOUND', `no job with id '${id}'`);
    if (res === 0) throw new KumoError('JOB_ALREADY_FINISHED', `job '${id}' already ended ${job.state}`);
    return job;
  }

  /**
   * Holds or releases feeding: `to` is paused, budget_exhausted or running, moved only from `from`
   * (a pause is undone only by resume, a budget stop only by budget). `maxCostUsd` sets a new budget.
   * Returns the state after, or undefined for an unknown job.
   */
  async hold(
    jobId: string,
    to: JobState | null,
    opts: { from?: readonly JobState[]; reason?: string; maxCostUsd?: number } = {},
  ): Promise<JobState | undefined> {
    const from = opts.from ?? (to ? statesMovingTo(to) : []);
    const res = await storeScripts.holdJob.run(this.redis, { job: this.keys.job(jobId) }, [
      jobId,
      from.join(','),
      to ?? '',
      this.keys.jobChangedChannel(),
      opts.reason ?? '',
      opts.maxCostUsd === undefined ? '' : opts.maxCostUsd,
    ]);
    return res === '' ? undefined : (res as JobState);
  }

  /** Applies one job's events atomically. Safe to repeat: a redelivered batch changes nothing. */
  async applyEvents(
    jobId: string,
    pool: string,
    events: TaskEvent[],
    usdPerSlotMs = 0,
    user = '',
  ): Promise<{ state: JobState; succeeded: number; failed: number; running: number } | undefined> {
    const args: (string | number)[] = [
      jobId,
      this.clock.now(),
      RATE_BUCKET_MS,
      RATE_BUCKETS,
      this.keys.controlChannel(),
      this.keys.jobChangedChannel(),
      usdPerSlotMs,
    ];
    args.push(
      JSON.stringify(
        events.map((e) => [e.t, e.i, e.a, e.w, Math.max(0, Math.round(e.d ?? 0)), ledgerEntryOf(e), e.o ?? '']),
      ),
    );
    args.push(pool, CONTRIBUTOR_DAYS_KEPT * 86_400, user, SPEND_MONTH_TTL_S);
    const k = this.keys;
    const res = await storeScripts.applyTaskEvents.run(
      this.redis,
      {
        job: k.job(jobId),
        done: k.jobDone(jobId),
        running: k.jobRunning(jobId),
        rate: k.jobRate(jobId),
        failures: k.jobFailures(jobId),
        results: k.jobResults(jobId),
        poolActive: k.poolActive(pool),
        user: k.user(user),
        listing: k.jobListing(jobId),
        gang: k.jobGang(jobId),
        failedBits: k.jobFailedBits(jobId),
        contributors: k.jobContributors(jobId),
        contributorsOfDay: k.contributorsOfDay(pool, contributorDay(this.clock.now())),
        spendMonth: k.spendMonth(this.budgets.month()),
      },
      args,
    );
    if (res.length === 0) return undefined;
    return { state: res[0] as JobState, succeeded: res[1], failed: res[2], running: res[3] };
  }

  owner(jobId: string): Promise<{ pool: string; user: string } | undefined> {
    return jobViews.owner.read(this.redis, this.keys, jobId);
  }

  /** Jobs of a pool with tasks left to feed or finish. */
  async activeJobIds(pool: string): Promise<string[]> {
    return this.redis.smembers(this.keys.poolActive(pool));
  }

  /** After the feeder added tasks [from, to) to the queue. */
  async advanceFeed(jobId: string, from: number, to: number): Promise<boolean> {
    return storeScripts.advanceFeed.run(this.redis, { job: this.keys.job(jobId), done: this.keys.jobDone(jobId) }, [
      from,
      to,
    ]);
  }
}

export type {
  CreateJobInput,
  JobCounts,
  JobFeed,
  JobHashView,
  TaskCounts,
  JobRecord,
  JobRuntime,
  ListJobsQuery,
  TaskFailure,
} from './job-record';
export { jobViews } from './job-record';
export { ContributorStore, CONTRIBUTOR_DAYS_KEPT, type Contributor } from './contributors';
export type { RerunOf, RerunTasks } from './task-presets';
export { LISTING_KEPT_DAYS } from './job-listing';
