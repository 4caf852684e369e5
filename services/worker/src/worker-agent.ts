import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  admit,
  createRedis,
  deliveryOf,
  gangOf,
  isTerminal,
  moveInProcessor,
  queueName,
  queueWorkerTiming,
  runCleanupSteps,
  settle,
  settleAdmission,
  taskLockKey,
  type DispatchLatencyRecorder,
  type JobSpecCache,
  type JobStore,
  type Keys,
  type Logger,
  type Settlement,
  type TaskData,
  type TaskEvent,
  type WorkerRegistry,
} from '@kumo/shared';
import { onControlMessage } from './control-message';
import type { GangMembership } from './gang-member';
import type { ProgressReporter } from './progress-reporter';
import type { RunningTask, RunningTasks } from './running-tasks';
import type { TaskAttempt } from './task-attempt';
import type { WorkerAgentOptions } from './worker-options';
import { createWorkerParts } from './worker-parts';

export type { WorkerAgentOptions } from './worker-options';

/**
 * The worker's life. Moved only by `start` and `stop`.
 *   idle -> running -> draining -> stopped
 */
export type WorkerState = 'idle' | 'running' | 'draining' | 'stopped';

/** How soon a delivery of a task comes back when an older delivery of it is still stopping here. */
const SAME_TASK_RECHECK_MS = 1000;

/**
 * Leases tasks of one pool from BullMQ, runs them, reports outcomes on the bus, heartbeats. Whether a
 * task runs and what its end means is the task lifecycle's to decide (shared/src/tasks); this agent
 * carries it out.
 */
export class WorkerAgent {
  state: WorkerState = 'idle';
  private readonly log: Logger;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly store: JobStore;
  private readonly jobs: JobSpecCache;
  private readonly gangs: GangMembership;
  private readonly running: RunningTasks;
  private readonly attempt: TaskAttempt;
  private readonly registry: WorkerRegistry;
  private readonly reporter: ProgressReporter;
  private readonly keys: Keys;
  /** Metrics hook: dispatch latency, aggregated in Redis for the API's /metrics. */
  private readonly latency: DispatchLatencyRecorder;
  private worker: Worker<TaskData> | undefined;
  /** BullMQ treats a connection it is given as shared and never closes it: we do. */
  private blocking: Redis | undefined;
  private idleSince: number | undefined;
  private heartbeatStop = new AbortController();
  private heartbeatLoop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** Counts of what this worker did, for its own logs and tests. */
  readonly stats = { succeeded: 0, failed: 0, retried: 0, handedBack: 0, skipped: 0 };

  constructor(private readonly opts: WorkerAgentOptions) {
    this.log = opts.logger.child({ component: 'worker', workerId: opts.id, pool: opts.pool });
    ({
      keys: this.keys,
      commands: this.commands,
      subscriber: this.subscriber,
      store: this.store,
      jobs: this.jobs,
      gangs: this.gangs,
      running: this.running,
      registry: this.registry,
      reporter: this.reporter,
      attempt: this.attempt,
      latency: this.latency,
    } = createWorkerParts(opts, this.log, () => this.state === 'draining'));
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    await this.subscriber.subscribe(this.keys.controlChannel());
    this.subscriber.on('message', (_chan: string, msg: string) =>
      onControlMessage(msg, { jobs: this.jobs, running: this.running, gangs: this.gangs }),
    );
    this.idleSince = this.opts.clock.now();
    this.worker = new Worker<TaskData>(queueName(this.opts.pool), (job, token) => this.process(job, token), {
      connection: (this.blocking = createRedis(this.opts.redisUrl, 'blocking', `worker-${this.opts.id}`, {
        logger: this.log,
      })),
      prefix: this.keys.queuePrefix(),
      concurrency: this.opts.slots,
      ...queueWorkerTiming(this.opts.lockMs),
      autorun: true,
    });
    this.worker.on('error', (err) => this.log.warn({ err }, 'queue worker error'));
    // A lock BullMQ could not renew is gone (the worker froze past it): that copy stops now.
    this.worker.on('lockRenewalFailed', () => void this.checkLocks());
    // Both of the queue worker's connections must be up before anything may close it: BullMQ (5.81)
    // closing a connection that is still initializing re-emits the failed init as an 'error' after it
    // removed every listener, which crashes the process (seen on SIGTERM ~100 ms after start, under load).
    await this.worker.waitUntilReady();
    this.state = 'running';
    this.heartbeatLoop = this.heartbeat();
    this.log.info({ slots: this.opts.slots }, 'worker started');
  }

  /** Tasks running now. */
  get busy(): number {
    return this.running.size;
  }

  private checkLocks(): Promise<void> {
    const queue = queueName(this.opts.pool);
    return this.running
      .checkLocks(this.commands, (queueId) => taskLockKey(this.keys, queue, queueId))
      .catch((err: unknown) => this.log.warn({ err }, 'task locks not checked'));
  }

  /**
   * Running tasks whose job ended: the stop message travels on pub/sub, which a reconnecting subscriber
   * misses, so each heartbeat also looks. No copy of a task runs on after its job ended.
   */
  private async checkJobs(): Promise<void> {
    for (const jobId of new Set([...this.running.values()].map((t) => t.jobId))) {
      const info = await this.jobs.get(jobId);
      if (!info || isTerminal(info.state)) this.running.stopJob(jobId, 'cancel');
    }
  }

  private async process(job: Job<TaskData>, token: string | undefined): Promise<string> {
    const { j: jobId, i: index } = job.data;
    const delivery = deliveryOf(job);
    const holder = token ?? '';
    const base = { j: jobId, i: index, a: delivery.attempt, w: this.opts.id };
    // Metrics hook: fed (the BullMQ job's timestamp) to started, first start only; a retry or a hand-back
    // waited out a backoff or a lost worker, which is not dispatch.
    if (job.attemptsStarted <= 1 && job.processedOn) this.latency.observe((job.processedOn - job.timestamp) / 1000);
    // BullMQ handed this task out again while an older delivery of it is still here: that one lost its
    // lock. It stops now; this one comes back once it is gone, so one worker never runs two copies.
    const older = this.running.ofEntry(job.id!);
    if (older.length > 0) {
      for (const t of older) this.running.stop(t, 'lost');
      return moveInProcessor(job, token, {
        move: 'delay',
        at: this.opts.clock.now() + SAME_TASK_RECHECK_MS,
        handBack: false,
      });
    }
    const info = await this.jobs.get(jobId);
    const admission = admit({
      job: info,
      delivery,
      taskDone: await this.store.isTaskDone(jobId, index),
      runsGangs: true,
      pool: this.opts.pool,
    });
    if (admission.verdict !== 'run')
      return this.conclude(job, token, base, settleAdmission(admission, this.opts.clock.now()));
    const task: RunningTask = {
      token: holder,
      queueId: job.id!,
      jobId,
      index,
      abort: new AbortController(),
      startedAt: this.opts.clock.now(),
    };
    if (gangOf(info!.spec)) {
      const joined = await this.gangs.join(jobId, index, holder);
      if ('admission' in joined)
        return this.conclude(job, token, base, settleAdmission(joined.admission, this.opts.clock.now()));
      task.gang = { gen: joined.gen, formed: false };
    }
    this.running.add(task);
    this.idleSince = undefined;
    this.reporter.add({ ...base, t: 's', at: this.opts.clock.now() });
    try {
      const end = await this.attempt.run(task, info!, delivery.attempt);
      const now = this.opts.clock.now();
      const settlement = settle(end, delivery.attempt, info!.policy, now, task.stopping !== 'lost');
      return await this.conclude(job, token, { ...base, d: now - task.startedAt }, settlement);
    } finally {
      this.running.delete(task);
      if (this.running.size === 0) this.idleSince = this.opts.clock.now();
    }
  }

  /** Reports a settlement's event (and waits until it is on the bus), then moves the queue entry. */
  private async conclude(
    job: Job<TaskData>,
    token: string | undefined,
    base: Pick<TaskEvent, 'j' | 'i' | 'a' | 'w' | 'd'>,
    s: Settlement,
  ): Promise<string> {
    if (s.event) await this.reporter.addAndWait({ ...base, ...s.event, at: this.opts.clock.now() });
    const m = s.move;
    if (m.move === 'complete' && m.value !== 'cancelled') this.stats[m.value === 'ok' ? 'succeeded' : 'skipped']++;
    else if (m.move === 'fail') this.stats.failed++;
    else if (m.move === 'retry') this.stats.retried++;
    else if (m.move === 'delay' && m.handBack) this.stats.handedBack++;
    return moveInProcessor(job, token, m);
  }

  private async heartbeat(): Promise<void> {
    while (!this.heartbeatStop.signal.aborted) {
      try {
        await this.registry.beat({
          id: this.opts.id,
          pool: this.opts.pool,
          slots: this.opts.slots,
          running: this.running.size,
          ...(this.idleSince !== undefined ? { idleSince: this.idleSince } : {}),
          state: this.state === 'draining' ? 'draining' : 'running',
        });
        await this.checkLocks();
        await this.checkJobs();
        await this.gangs.check(this.running);
      } catch (err) {
        this.log.warn({ err }, 'heartbeat failed');
      }
      await this.opts.clock.sleep(this.opts.heartbeatMs, this.heartbeatStop.signal);
    }
  }

  /**
   * Stop taking tasks; let running ones finish for up to `drainMs`; hand the rest back to the queue
   * (no attempt used); flush outcomes; close. `handBackNow` skips the drain (spot preemption: ~30 s).
   * Safe to call twice: both calls get the same promise.
   */
  stop(opts: { handBackNow?: boolean } = {}): Promise<void> {
    this.stopping ??= this.doStop(opts.handBackNow ?? false);
    return this.stopping;
  }

  private async doStop(handBackNow: boolean): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      await this.latency.close().catch(() => undefined);
      await this.closeConnections();
      return;
    }
    this.state = 'draining';
    this.log.info({ running: this.running.size, handBackNow }, 'worker draining');
    const steps: [string, () => Promise<unknown>][] = [
      ['pause', async () => this.worker?.pause(true)],
      // A gang rank still waiting for its peers would start a trainer on a VM that is going away.
      [
        'leave rendezvous',
        async () => {
          for (const t of this.running.values()) if (t.gang && !t.gang.formed) this.running.stop(t, 'handback');
        },
      ],
      ['drain', () => this.waitForIdle(handBackNow ? 0 : this.opts.drainMs)],
      [
        'hand back',
        async () => {
          for (const t of this.running.values()) this.running.stop(t, 'handback');
          await this.waitForIdle(15_000);
        },
      ],
      ['close queue worker', async () => this.worker?.close()],
      ['flush progress', () => this.reporter.close()],
      ['flush metrics', () => this.latency.close()],
      ['deregister', () => this.registry.remove(this.opts.id, this.opts.pool)],
    ];
    await runCleanupSteps(steps, (step, err) => this.log.warn({ err, step }, 'shutdown step failed'));
    this.heartbeatStop.abort();
    await this.heartbeatLoop;
    await this.closeConnections();
    this.state = 'stopped';
    this.log.info({ stats: this.stats }, 'worker stopped');
  }

  private async waitForIdle(ms: number): Promise<void> {
    const until = this.opts.clock.now() + ms;
    while (this.running.size > 0 && this.opts.clock.now() < until) await this.opts.clock.sleep(50);
  }

  private async closeConnections(): Promise<void> {
    for (const c of [this.subscriber, this.commands, ...(this.blocking ? [this.blocking] : [])]) {
      try {
        await c.quit();
      } catch {
        c.disconnect();
      }
    }
  }
}
