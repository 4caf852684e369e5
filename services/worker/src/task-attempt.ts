import { join } from 'node:path';
import {
  gangOf,
  listedInputRange,
  storeLogSink,
  taskEnvironment,
  TaskLogWriter,
  type ArtifactStore,
  type CachedJob,
  type Clock,
  type GangPlacement,
  type JobStore,
  type Logger,
  type StopReason,
  type TaskEnd,
  type TaskEvent,
} from '@kumo/shared';
import type { GangMembership } from './gang-member';
import type { ProgressReporter } from './progress-reporter';
import type { RunningTask, RunningTasks } from './running-tasks';
import type { ContainerRuntime } from './sandbox/containers';
import type { TaskSandbox } from './sandbox/task-sandbox';
import { runTask, TaskFailure, toTaskError } from './task-runner';

export interface TaskAttemptOptions {
  store: JobStore;
  reporter: ProgressReporter;
  gangs: GangMembership;
  running: RunningTasks;
  workerId: string;
  /** Local folder for what tasks write through kumo's contracts (training checkpoints). */
  artifactsDir?: string;
  /** Where each command task's whole log is kept, per attempt (see shared/src/artifacts/task-log.ts). */
  artifacts?: ArtifactStore;
  /** The most bytes of one attempt's log kept (the tail). Default 16 MiB. */
  logMaxBytes?: number;
  /** Where command tasks run, and the machine's variables they may see (see WorkerAgentOptions). */
  sandbox: TaskSandbox;
  containers?: ContainerRuntime;
  machineEnv: Record<string, string>;
  /** Whether the worker is going away: a task that dies then was stopped with it. */
  draining: () => boolean;
  clock: Clock;
  log: Logger;
}

type Base = Pick<TaskEvent, 'j' | 'i' | 'a' | 'w'>;

/** Runs one admitted delivery of a task on this worker, to its end: how it ended, as the lifecycle names ends. */
export class TaskAttempt {
  constructor(private readonly o: TaskAttemptOptions) {}

  async run(task: RunningTask, info: CachedJob, attempt: number): Promise<TaskEnd> {
    const base: Base = { j: task.jobId, i: task.index, a: attempt, w: this.o.workerId };
    let closingLog: Promise<void> | undefined;
    try {
      const gang = gangOf(info.spec);
      const placement = gang ? await this.o.gangs.meet(task, gang, this.o.running) : undefined;
      let lastProgressAt = 0;
      const log = this.openLog(info, base);
      const out = await runTask({
        run: info.spec.run,
        // Builtins run in this process and read no environment: skip building one.
        env: 'builtin' in info.spec.run ? {} : await this.taskEnv(info, task.index, attempt, placement),
        timeoutMs: info.policy.timeoutMs,
        killGraceMs: info.policy.stopGraceMs,
        signal: task.abort.signal,
        clock: this.o.clock,
        sandbox: this.o.sandbox,
        ...(this.o.containers ? { containers: this.o.containers } : {}),
        onCheckpoint: (data) => this.o.reporter.add({ ...base, t: 'c', at: this.o.clock.now(), data }),
        onProgress: (data) => {
          // At most one a second per task: a trainer may print every step.
          const now = this.o.clock.now();
          if (now - lastProgressAt < 1000) return;
          lastProgressAt = now;
          this.o.reporter.add({ ...base, t: 'p', at: now, data });
        },
        // While the store is behind, write() returns a promise: the runner holds the task's output until it settles.
        ...(log ? { onOutput: (chunk: Buffer) => log.write(chunk) } : {}),
      }).then(
        async (o) => {
          await log?.close();
          return o;
        },
        (err: unknown) => {
          // Waited for after endOf, not before: a gang rank that failed must end its generation before its
          // peers, losing it, fail on their own and are charged the attempt that was this rank's. Its end
          // is reported only once the log is whole (a reader told the task failed finds all of it).
          closingLog = log?.close().catch(() => undefined);
          throw err;
        },
      );
      // The log is the API's to serve (GET /v1/jobs/:id/tasks/:index/log), not part of what the task reported.
      return { end: 'succeeded', ...(out.result ? { result: out.result } : {}) };
    } catch (err) {
      const end = await this.endOf(err, task, base);
      await closingLog;
      return end;
    }
  }

  /** What a task that threw ended as: stopped (by whom), or failed on its own. */
  private async endOf(err: unknown, task: RunningTask, base: Base): Promise<TaskEnd> {
    let why = task.abort.signal.reason as StopReason | undefined;
    // A gang rank that ran and ends any way but success ends its generation: the other ranks are
    // stopped and handed back, and the whole gang runs again together. (One that never got past the
    // rendezvous has left it already: the others may still meet with its next run.) If another rank
    // ended it first, this rank's own end (a trainer that lost its peer) is the gang's doing: handed
    // back, no attempt used.
    if (task.gang?.formed && !(await this.o.gangs.endGeneration(task)) && why === undefined) why = 'gang';
    if (why !== undefined) return { end: 'stopped', why };
    // A task that dies while the worker is stopping was stopped with it (systemd or a preemption can
    // signal the task's process group directly): that is the infrastructure's doing, not the task's.
    if (this.o.draining()) return { end: 'stopped', why: 'handback' };
    const error = toTaskError(err);
    const log = err instanceof TaskFailure ? err.logTail : '';
    this.o.log.info({ jobId: base.j, index: base.i, attempt: base.a, code: error.code }, 'task failed');
    return { end: 'failed', error, log };
  }

  /**
   * A command task's whole log, written to the artifact store while it runs. A store that fails must
   * not fail the task: the log is a convenience, the outcome is what counts.
   */
  private openLog(info: CachedJob, base: Base): TaskLogWriter | undefined {
    const store = this.o.artifacts;
    if (!store || 'builtin' in info.spec.run) return undefined;
    return new TaskLogWriter({
      sink: storeLogSink(store, base.j, base.i, base.a),
      ...(this.o.logMaxBytes ? { maxBytes: this.o.logMaxBytes } : {}),
      onError: (err) => this.o.log.warn({ err, jobId: base.j, index: base.i, attempt: base.a }, 'task log not kept'),
    });
  }

  /** The task's environment (the shared contract), with this machine's checkpoint folder for training. */
  private async taskEnv(
    info: CachedJob,
    index: number,
    attempt: number,
    gang?: GangPlacement,
  ): Promise<Record<string, string>> {
    const training = info.spec.kind === 'training';
    const last = training ? await this.o.store.checkpoint(info.id) : undefined;
    // A listing job's inputs are its lines of the listing stored with the job, not in the spec.
    const range = listedInputRange(info.spec, index);
    const inputs = range ? await this.o.store.listedInputs(info.id, range.from, range.to) : undefined;
    return taskEnvironment(
      {
        ...(inputs ? { inputs } : {}),
        jobId: info.id,
        spec: info.spec,
        index,
        attempt,
        workerId: this.o.workerId,
        checkpointDir: join(
          this.o.artifactsDir ?? join(process.cwd(), '.kumo', 'artifacts'),
          'jobs',
          info.id,
          'checkpoints',
        ),
        resumeFrom: typeof last?.uri === 'string' ? last.uri : '',
        ...(gang ? { gang } : {}),
      },
      this.o.machineEnv,
    );
  }
}
