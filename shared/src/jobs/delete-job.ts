import type { Redis } from 'ioredis';
import { KumoError } from '../errors';
import type { Keys } from '../store/keys';
import { storeScripts } from '../store/scripts';
import { jobHashView } from './job-hash';
import { isTerminal } from './job-state';

/** What a delete needs to know of a job: whose it is, and the keys outside the job's own that name it. */
const deletionView = jobHashView(['state', 'pool', 'user', 'running', 'idempotencyKey'], (h) => ({
  state: h.state,
  pool: h.pool ?? '',
  user: h.user ?? '',
  /** Ended with tasks still counted running: a cancelled job whose tasks are being stopped. */
  stopping: isTerminal(h.state) && Number(h.running ?? 0) > 0,
  idempotencyKey: h.idempotencyKey ?? '',
}));

/** What tells whether a job still waits on its dependencies. */
const dependencyView = jobHashView(['state', 'deps', 'depsMet'], (h) => ({
  waiting: !isTerminal(h.state) && h.depsMet !== '1',
  deps: h.deps ? (JSON.parse(h.deps) as string[]) : [],
}));

/** A job as a delete reads it once, for the owner check, the checks below and the script's keys. */
export type DeletableJob = NonNullable<ReturnType<typeof deletionView.parse>>;

function notEnded(id: string, job: { state: string; stopping: boolean }): KumoError {
  return job.stopping
    ? new KumoError('JOB_STOPPING', `job '${id}' ended ${job.state} but its tasks are still stopping: try again soon`)
    : new KumoError('JOB_NOT_ENDED', `job '${id}' is ${job.state}: cancel it before deleting it`);
}

/** The job a delete would remove; JOB_NOT_FOUND when there is none. */
export async function readDeletable(redis: Redis, keys: Keys, id: string): Promise<DeletableJob> {
  const job = await deletionView.read(redis, keys, id);
  if (!job) throw new KumoError('JOB_NOT_FOUND', `no job with id '${id}'`);
  return job;
}

/**
 * Checks that a job may be deleted: it has ended, with no task of it still counted running (a cancelled
 * job's tasks are being stopped). Throws JOB_NOT_ENDED or JOB_STOPPING (retryable). What is kept outside
 * Redis (task logs in the artifact store) is the caller's to delete between this and deleteJob.
 */
export function assertDeletable(id: string, job: DeletableJob): void {
  if (!isTerminal(job.state) || job.stopping) throw notEnded(id, job);
}

/**
 * Checks that no live job still waits on this one (dependsOn, its dependencies not all seen succeeded
 * yet): such a job would find it gone and fail. Throws JOB_HAS_DEPENDENTS naming them. A job created
 * after this check is not seen; it is told at its submit whether its dependencies exist.
 */
export async function assertNoWaitingDependents(redis: Redis, keys: Keys, id: string): Promise<void> {
  const pools = await redis.smembers(keys.poolsIndex());
  const live = (await Promise.all(pools.map((p) => redis.smembers(keys.poolActive(p))))).flat();
  const views = await dependencyView.readMany(redis, keys, live);
  const dependents = live.filter((_, i) => views[i]?.waiting && views[i].deps.includes(id)).sort();
  if (dependents.length > 0)
    throw new KumoError(
      'JOB_HAS_DEPENDENTS',
      `job '${id}' is a dependency of ${dependents.length === 1 ? 'job' : 'jobs'} ${dependents.join(', ')}, which ${dependents.length === 1 ? 'waits' : 'wait'} on it still: delete it once they have started, or cancel them first`,
    );
}

/**
 * Deletes an ended job and all Redis keeps of it, in one step (deleteJob-17.lua, which checks again): after
 * it the job id names nothing (404), its Idempotency-Key is free again, and /metrics totals still count it.
 */
export async function deleteJob(redis: Redis, keys: Keys, id: string, job: DeletableJob): Promise<void> {
  const res = await storeScripts.deleteJob.run(
    redis,
    {
      job: keys.job(id),
      jobsIndex: keys.jobsIndex(),
      metricsFold: keys.metricsJobFold(),
      poolActive: keys.poolActive(job.pool),
      idempotency: job.idempotencyKey,
      done: keys.jobDone(id),
      running: keys.jobRunning(id),
      rate: keys.jobRate(id),
      failedBits: keys.jobFailedBits(id),
      contributors: keys.jobContributors(id),
      failures: keys.jobFailures(id),
      results: keys.jobResults(id),
      listing: keys.jobListing(id),
      gang: keys.jobGang(id),
      lost: keys.jobLost(id),
      evaluations: keys.jobEvaluations(id),
      evaluationSlots: keys.jobEvaluationSlots(id),
    },
    [id],
  );
  if (res === -1) throw new KumoError('JOB_NOT_FOUND', `no job with id '${id}'`);
  if (res === 0) throw notEnded(id, { ...job, stopping: isTerminal(job.state) });
}
