import type { Redis } from 'ioredis';
import { jobViews, type JobFeed, type JobStore, type Keys, type Logger } from '@kumo/shared';

/** What the gates read and write: the store, and Redis for the states of other jobs. */
export interface GateContext {
  redis: Redis;
  keys: Keys;
  jobs: JobStore;
  logger: Logger;
}

/**
 * The dependency gate: true once every job this one depends on has succeeded (remembered on the job, so
 * later ticks skip the check). If one failed or was cancelled, this job fails too, visibly, and so in
 * turn do its own dependents on their next check.
 */
export async function dependenciesMet(c: GateContext, id: string, deps: string[]): Promise<boolean> {
  const states = await jobViews.state.readMany(c.redis, c.keys, deps);
  const broken = deps.findIndex(
    (_, i) => states[i] === undefined || states[i] === 'failed' || states[i] === 'cancelled',
  );
  if (broken >= 0) {
    const why = states[broken] === undefined ? 'does not exist' : `ended ${states[broken]}`;
    await c.jobs.end(id, 'failed', `DEPENDENCY_FAILED: job ${deps[broken]} ${why}`).catch(() => undefined);
    c.logger.info({ jobId: id, dependency: deps[broken] }, 'job failed: a dependency failed');
    return false;
  }
  const waiting = deps.find((_, i) => states[i] !== 'succeeded');
  if (waiting) {
    await c.jobs.dependencies.waitingOn(id, waiting);
    return false;
  }
  await c.jobs.dependencies.met(id);
  return true;
}

/**
 * The canary gate: how far the job may be fed now (its first `canary` tasks to run, until they all
 * succeeded; preset tasks never ran, so they prove nothing), or `failed` once those tasks are all final
 * and one of them failed for good: the rest would never be fed, so the job fails instead of waiting
 * forever (with maxFailedTasks 0 a failure ends it before this; this is for jobs that allow some).
 */
export function canaryGate(f: JobFeed): number | 'failed' {
  const passed = f.succeeded - f.preset;
  if (f.canary === 0 || passed >= f.canary) return f.total;
  const ran = f.succeeded + f.failed - f.preset;
  if (f.failed > 0 && ran >= f.canary && f.fed < f.total) return 'failed';
  return f.canaryEnd;
}

/** Fails a job whose canary failed, visibly. */
export async function failCanary(c: GateContext, id: string, f: JobFeed): Promise<void> {
  const reason = `CANARY_FAILED: ${f.failed} of its first ${f.canary} tasks failed; the rest were never run`;
  await c.jobs.end(id, 'failed', reason).catch(() => undefined);
  c.logger.info({ jobId: id, failed: f.failed }, 'job failed: its canary failed');
}
