/**
 * Every Redis key kumo writes, in one place. Everything sits under one prefix (default `kumo`), so a
 * test or a second deployment on the same Redis never sees another's keys.
 */
export class Keys {
  constructor(readonly prefix: string = 'kumo') {}

  // Jobs
  job = (id: string): string => `${this.prefix}:job:${id}`;
  /** Bitmap: bit i set once task i is final (succeeded or failed). Exactly-once counting hangs on it. */
  jobDone = (id: string): string => `${this.prefix}:job:${id}:done`;
  /** Hash task index -> "attempt|worker" for tasks running now. Bounded by tasks in flight. */
  jobRunning = (id: string): string => `${this.prefix}:job:${id}:running`;
  /** Hash bucket number -> tasks finished in it; the sliding window behind ratePerMinute. */
  jobRate = (id: string): string => `${this.prefix}:job:${id}:rate`;
  /** Bitmap: bit i set once task i failed for good (a subset of the done bitmap); what a rerun of failed tasks runs. */
  jobFailedBits = (id: string): string => `${this.prefix}:job:${id}:failed`;
  /** Hash "<succeeded|failed|ms>\n<worker>\n<owner>" -> count: who did the job's tasks (jobs/contributors.ts). */
  jobContributors = (id: string): string => `${this.prefix}:job:${id}:contributors`;
  /** The same per pool and UTC day (yyyymmdd), across jobs; expires after CONTRIBUTOR_DAYS_KEPT days. */
  contributorsOfDay = (pool: string, day: string): string => `${this.prefix}:pool:${pool}:contributors:${day}`;
  /** Hash task index -> JSON of its last error (final or not) with its log tail. */
  jobFailures = (id: string): string => `${this.prefix}:job:${id}:failures`;
  /** Hash task index -> JSON of what the task reported (`::kumo::result`), its ledger entry. */
  jobResults = (id: string): string => `${this.prefix}:job:${id}:results`;
  /**
   * List: a listing job's WARC paths (source.listing), the lines its tasks read by index. Written whole
   * before the job's hash exists; kept LISTING_KEPT_DAYS after the job ends (succeeded, failed,
   * cancelled), for a rerun of its tasks (which copies it), then gone: the job keeps `source.listing`
   * and `listingSha256`.
   */
  jobListing = (id: string): string => `${this.prefix}:job:${id}:listing`;
  /**
   * Hash: a gang training job's rendezvous (shared/src/jobs/gang-store.ts): `gen` (the generation now
   * forming or running) and `r<rank>` -> the rank's run in it. Deleted when the job ends.
   */
  jobGang = (id: string): string => `${this.prefix}:job:${id}:gang`;
  /**
   * Hash task index -> times the task was found lost from its pool's queue (no entry, no lock) and fed
   * again by the scheduler's reconciler: infrastructure losses no queue entry remembers. Expires.
   */
  jobLost = (id: string): string => `${this.prefix}:job:${id}:lost`;
  /** Sorted set: a training job's evaluation jobs (member: job id), scored by the checkpoint step each evaluates. */
  jobEvaluations = (id: string): string => `${this.prefix}:job:${id}:evaluations`;
  /** Set: a training job's checkpoint steps that were given an evaluation slot (at most the cap of them). */
  jobEvaluationSlots = (id: string): string => `${this.prefix}:job:${id}:evaluation-slots`;
  /** Sorted set of all job ids (score 0, lexical order = creation order). */
  jobsIndex = (): string => `${this.prefix}:jobs`;
  idempotency = (scope: string, key: string): string => `${this.prefix}:idem:${scope}:${key}`;
  /** Hash: a user's spend across their jobs (costUsd) and their budget (maxCostUsd). */
  user = (name: string): string => `${this.prefix}:user:${name}`;
  /**
   * Hash: one month's spend (the month of the budgets' time zone, `YYYY-MM`), field `user:<name>`,
   * `pool:<name>`, `job:<id>` and `all` -> USD. Added to by every cost event; expires months later.
   */
  spendMonth = (month: string): string => `${this.prefix}:spend:${month}`;
  /** Hash: the team's monthly budget over everyone (maxCostUsd). */
  team = (): string => `${this.prefix}:team`;
  /** JSON: a pipeline's stages and the job each became. */
  pipeline = (id: string): string => `${this.prefix}:pipeline:${id}`;

  // Pools and feeding
  pool = (name: string): string => `${this.prefix}:pool:${name}`;
  poolStatus = (name: string): string => `${this.prefix}:pool:${name}:status`;
  /** Hash: why the pool cannot grow right now (stockout, quota) and until when. */
  poolCapacity = (name: string): string => `${this.prefix}:pool:${name}:capacity`;
  /** Hash: money spent on the pool's VMs that have ended (live VMs are added on read). */
  poolCost = (name: string): string => `${this.prefix}:pool:${name}:cost`;
  poolsIndex = (): string => `${this.prefix}:pools`;
  /** Set of job ids in the pool that still have tasks to feed or finish. */
  poolActive = (pool: string): string => `${this.prefix}:pool:${pool}:active`;
  /** BullMQ's own prefix: its keys live under ours. */
  queuePrefix = (): string => `${this.prefix}:q`;

  // Fleet
  vm = (name: string): string => `${this.prefix}:vm:${name}`;
  poolVms = (pool: string): string => `${this.prefix}:pool:${pool}:vms`;
  worker = (id: string): string => `${this.prefix}:worker:${id}`;
  poolWorkers = (pool: string): string => `${this.prefix}:pool:${pool}:workers`;

  /** JSON: an HTTPS worker's lease on one task (who holds it, which queue entry). Expires unless renewed. */
  lease = (token: string): string => `${this.prefix}:lease:${token}`;

  // Auth
  token = (hash: string): string => `${this.prefix}:token:${hash}`;
  tokensIndex = (): string => `${this.prefix}:tokens`;

  // Leadership
  leader = (role: string): string => `${this.prefix}:leader:${role}`;

  // Metrics: aggregates written where things happen (any process), rendered by the API's /metrics.
  /** Hash: totals of jobs that ended long ago, folded so /metrics need not reread them (services/api/src/metrics/job-fold.ts). */
  metricsJobFold = (): string => `${this.prefix}:metrics:jobs`;
  /** Hash per pool: dispatch latency histogram, field = bucket upper bound in seconds, plus `sum` and `count`. */
  metricsDispatchLatency = (pool: string): string => `${this.prefix}:metrics:dispatch:${pool}`;
  /** Hash: failed VM creates, field = `pool|reason` (the error code). */
  metricsProvisionErrors = (): string => `${this.prefix}:metrics:provision-errors`;

  // Pub/sub channels (Redis PUBLISH, not the bus: fire-and-forget notifications)
  /** Carries a job id whenever its progress or state changed. */
  jobChangedChannel = (): string => `${this.prefix}:chan:job-changed`;
  /** Carries `{type, jobId}` when workers must stop a job's running tasks. */
  controlChannel = (): string => `${this.prefix}:chan:control`;
}
