import type { Redis } from 'ioredis';
import {
  isTerminal,
  KumoError,
  logSegments,
  loggedAttempts,
  readSegments,
  type ArtifactStore,
  type JobStore,
  type Keys,
} from '@kumo/shared';

/** How often a follower looks for new segments while the task runs. */
const FOLLOW_POLL_MS = 250;

/** What Redis says of a task's attempts: the one running now, the last one that failed, whether it is final. */
interface TaskTrace {
  running?: number;
  failed?: number;
  done: boolean;
}

/**
 * A task's log as the API serves it (`GET /v1/jobs/:id/tasks/:index/log`): the segments a worker wrote
 * to the artifact store (shared/src/artifacts/task-log.ts), and the job's running and failures hashes
 * to know which attempts ran and when the one followed has ended.
 */
export class TaskLogReader {
  constructor(private readonly o: { store: ArtifactStore; redis: Redis; keys: Keys; jobs: JobStore }) {}

  private async trace(jobId: string, index: number): Promise<TaskTrace> {
    const [running, failure, done] = await Promise.all([
      this.o.redis.hget(this.o.keys.jobRunning(jobId), String(index)),
      this.o.redis.hget(this.o.keys.jobFailures(jobId), String(index)),
      this.o.jobs.isTaskDone(jobId, index),
    ]);
    const t: TaskTrace = { done };
    if (running) t.running = Number(running.split('|')[0]);
    if (failure) t.failed = (JSON.parse(failure) as { attempt: number }).attempt;
    return t;
  }

  /**
   * The attempt to read: `asked`, or the latest that ran (logged, running or failed). Undefined: the
   * task never ran. A task that is final but left no attempt number (it printed nothing) reads as 1.
   */
  async attemptOf(jobId: string, index: number, asked?: number): Promise<number | undefined> {
    const [logged, t] = await Promise.all([loggedAttempts(this.o.store, jobId, index), this.trace(jobId, index)]);
    const known = [
      ...logged,
      ...(t.running !== undefined ? [t.running] : []),
      ...(t.failed !== undefined ? [t.failed] : []),
    ];
    const latest = known.length ? Math.max(...known) : t.done ? 1 : undefined;
    if (latest === undefined) return undefined;
    if (asked === undefined) return latest;
    // An attempt past the latest has not run (yet); one before it ran, logged or not.
    return asked <= latest ? asked : undefined;
  }

  /**
   * Following a task that has not run yet: waits until an attempt of it shows up, or the job ends
   * (undefined: it never ran), or the reader leaves.
   */
  async waitForAttempt(jobId: string, index: number, signal: AbortSignal): Promise<number | undefined> {
    while (!signal.aborted) {
      const attempt = await this.attemptOf(jobId, index);
      if (attempt !== undefined) return attempt;
      const job = await this.o.jobs.get(jobId);
      if (!job || isTerminal(job.state)) return this.attemptOf(jobId, index);
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
    return undefined;
  }

  /** The attempt's log as it is now: its kept segments, one in memory at a time. */
  async *read(jobId: string, index: number, attempt: number): AsyncGenerator<Buffer> {
    yield* readSegments(this.o.store, await logSegments(this.o.store, jobId, index, attempt), { reached: 0 });
  }

  /**
   * The attempt's log while it runs, then to its end: new segments as they appear, until its last
   * segment is read, or Redis says the attempt is over (it printed nothing more: no last segment comes),
   * or the job ended, or the reader left (`signal`).
   */
  async *follow(jobId: string, index: number, attempt: number, signal: AbortSignal): AsyncGenerator<Buffer> {
    const cursor = { reached: 0 };
    while (!signal.aborted) {
      const segments = await logSegments(this.o.store, jobId, index, attempt);
      yield* readSegments(this.o.store, segments, cursor);
      if (segments.some((s) => s.last)) return;
      // Read again after the attempt is seen over: what it wrote just before is not lost.
      if (await this.attemptOver(jobId, index, attempt)) {
        yield* readSegments(this.o.store, await logSegments(this.o.store, jobId, index, attempt), cursor);
        return;
      }
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
  }

  private async attemptOver(jobId: string, index: number, attempt: number): Promise<boolean> {
    const [t, job] = await Promise.all([this.trace(jobId, index), this.o.jobs.get(jobId)]);
    if (!job || isTerminal(job.state)) return true;
    if (t.running !== undefined) return t.running > attempt;
    return t.done || (t.failed !== undefined && t.failed >= attempt);
  }
}

export function taskNotRun(jobId: string, index: number, attempt?: number): KumoError {
  const which = attempt === undefined ? '' : ` attempt ${attempt}`;
  return new KumoError('TASK_NOT_RUN', `task ${index}${which} of job '${jobId}' has not run`, {
    details: { jobId, index, ...(attempt !== undefined ? { attempt } : {}) },
  });
}
