import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  gangOf,
  GangStore,
  isFinalFailure,
  runCleanupSteps,
  createRedis,
  DispatchLatencyRecorder,
  isTerminal,
  JobStore,
  Keys,
  queueName,
  taskEnvironment,
  listedInputRange,
  taskLogKey,
  type ArtifactStore,
  WorkerRegistry,
  type Bus,
  type Clock,
  type Logger,
  type TaskData,
  type TaskError,
  type TaskEvent,
  type Gang,
  type GangPlacement,
} from '@kumo/shared';
import { awaitGang } from './gang-rendezvous';
import { JobCache, type CachedJob } from './job-cache';
import { ProgressReporter } from './progress-reporter';
import { runTask, TaskFailure, toTaskError } from './task-runner';

/**
 * The worker's life. Moved only by `start` and `stop`.
 *   idle -> running -> draining -> stopped
 */
export type WorkerState = 'idle' | 'running' | 'draining' | 'stopped';

export interface WorkerAgentOptions {
  redisUrl: string;
  prefix: string;
  bus: Bus;
  pool: string;
  /** Unique: the VM or process name. */
  id: string;
  /** Tasks at once. */
  slots: number;
  lockMs: number;
  drainMs: number;
  heartbeatMs: number;
  /** Local folder for what tasks write through kumo's contracts (training checkpoints). Default .kumo/artifacts. */
  artifactsDir?: string;
  /** Where each command task's log (its last 8 KiB) is kept, per attempt. None: logs live only as failure tails. */
  artifacts?: ArtifactStore;
  /** Where other VMs reach this one: a gang's rank 0 gives it to its peers as MASTER_ADDR. */
  addr?: string;
  clock: Clock;
  logger: Logger;
}

/**
 * Why a running task was stopped: cancelled, handed back (preemption, drain), its gang's generation
 * ended, or its job was paused while it waited for its gang.
 */
type StopReason = 'cancel' | 'handback' | 'gang' | 'paused';

/** How often a task of a paused job comes back to see whether the job was resumed. */
const PAUSED_RECHECK_MS = 3000;
/** How soon a gang rank that found this worker holding another rank of its gang comes back. */
const GANG_BUSY_RECHECK_MS = 2000;

interface RunningTask {
  jobId: string;
  index: number;
  abort: AbortController;
  startedAt: number;
  /** A gang rank: the generation it joined, and whether all its ranks met (then it runs as part of it). */
  gang?: { gen: number; formed: boolean };
  /** Why it is being stopped, once stopTask was called (the abort may follow a moment later). */
  stopping?: StopReason;
}

/** Leases tasks of one pool from BullMQ, runs them, reports outcomes on the bus, heartbeats. */
export class WorkerAgent {
  state: WorkerState = 'idle';
  private readonly log: Logger;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly store: JobStore;
  private readonly gangs: GangStore;
  /** This VM's address for its gang peers: the configured one, else its first external IPv4 address. */
  private readonly addr: string;
  private readonly jobs: JobCache;
  private readonly registry: WorkerRegistry;
  private readonly reporter: ProgressReporter;
  private readonly keys: Keys;
  /** Metrics hook: dispatch latency, aggregated in Redis for the API's /metrics. */
  private readonly latency: DispatchLatencyRecorder;
  private worker: Worker<TaskData> | undefined;
  /** BullMQ treats a connection it is given as shared and never closes it: we do. */
  private blocking: Redis | undefined;
  private readonly running = new Map<string, RunningTask>();
  private idleSince: number | undefined;
  private heartbeatStop = new AbortController();
  private heartbeatLoop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** Counts of what this worker did, for its own logs and tests. */
  readonly stats = { succeeded: 0, failed: 0, retried: 0, handedBack: 0, skipped: 0 };

  constructor(private readonly opts: WorkerAgentOptions) {
    this.log = opts.logger.child({ component: 'worker', workerId: opts.id, pool: opts.pool });
    this.keys = new Keys(opts.prefix);
    this.commands = createRedis(opts.redisUrl, 'command', `worker-${opts.id}`, { logger: this.log });
    this.subscriber = createRedis(opts.redisUrl, 'subscriber', `worker-${opts.id}`, { logger: this.log });
    this.store = new JobStore(this.commands, { prefix: opts.prefix, clock: opts.clock });
    this.gangs = new GangStore(this.commands, { prefix: opts.prefix, clock: opts.clock });
    this.addr = opts.addr ?? defaultAddress();
    this.jobs = new JobCache(this.store, opts.clock);
    this.registry = new WorkerRegistry(this.commands, { prefix: opts.prefix, clock: opts.clock, ttlMs: Math.max(15_000, opts.heartbeatMs * 3) });
    this.reporter = new ProgressReporter({ bus: opts.bus, workerId: opts.id, logger: this.log, clock: opts.clock });
    this.latency = new DispatchLatencyRecorder(this.commands, this.keys.metricsDispatchLatency(opts.pool), { clock: opts.clock, onError: (err) => this.log.warn({ err }, 'dispatch latency not recorded') });
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    await this.subscriber.subscribe(this.keys.controlChannel());
    this.subscriber.on('message', (_chan: string, msg: string) => this.onControl(msg));
    this.idleSince = this.opts.clock.now();
    this.worker = new Worker<TaskData>(queueName(this.opts.pool), (job, token) => this.process(job, token), {
      connection: (this.blocking = createRedis(this.opts.redisUrl, 'blocking', `worker-${this.opts.id}`, { logger: this.log })),
      prefix: this.keys.queuePrefix(),
      concurrency: this.opts.slots,
      lockDuration: this.opts.lockMs,
      stalledInterval: Math.max(1000, Math.floor(this.opts.lockMs / 2)),
      // kumo enforces each job's own infrastructure budget from the stall counter (see process()).
      maxStalledCount: 1000,
      autorun: true,
    });
    this.worker.on('error', (err) => this.log.warn({ err }, 'queue worker error'));
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

  private onControl(msg: string): void {
    let m: { type?: string; jobId?: string; gen?: number };
    try {
      m = JSON.parse(msg) as typeof m;
    } catch {
      return;
    }
    if (!m.jobId) return;
    if (m.type === 'stop') {
      this.jobs.markStopped(m.jobId);
      for (const t of this.running.values()) if (t.jobId === m.jobId) this.stopTask(t, 'cancel');
    } else if (m.type === 'gang-stop') {
      for (const t of this.running.values()) if (t.jobId === m.jobId && t.gang?.formed && t.gang.gen === m.gen) this.stopTask(t, 'gang');
    }
  }

  /**
   * Stops a running task. A gang rank that met its gang ends its generation at once: its peers are
   * stopped and handed back now, not after this trainer's grace, by when they may have failed on their
   * own for want of it (and been charged an attempt that was not theirs).
   */
  private stopTask(t: RunningTask, reason: StopReason): void {
    if (t.stopping) return;
    t.stopping = reason;
    // Ended first, signalled after: a peer that sees this trainer go must find its generation over.
    if (t.gang?.formed && reason !== 'gang') void this.endGeneration(t).finally(() => t.abort.abort(reason));
    else t.abort.abort(reason);
  }

  /** Ends the generation `t` ran in; false if it had ended already (or the job with it). */
  private async endGeneration(t: RunningTask): Promise<boolean> {
    try {
      return await this.gangs.breakGeneration(t.jobId, t.gang!.gen);
    } catch (err) {
      this.log.warn({ err, jobId: t.jobId, rank: t.index }, 'gang generation not ended');
      return false;
    }
  }

  /**
   * Running gang ranks whose generation has ended: the gang-stop message travels on pub/sub, which a
   * reconnecting subscriber misses, so each heartbeat also looks.
   */
  private async checkGangs(): Promise<void> {
    for (const t of this.running.values()) {
      if (!t.gang?.formed || t.stopping) continue;
      const gen = await this.gangs.generation(t.jobId);
      if (gen !== undefined && gen !== t.gang.gen) this.stopTask(t, 'gang');
    }
  }

  private async process(job: Job<TaskData>, token: string | undefined): Promise<string> {
    const { j: jobId, i: index } = job.data;
    const attempt = job.attemptsMade + 1;
    // Metrics hook: fed (the BullMQ job's timestamp) to started, first start only; a retry or a hand-back
    // waited out a backoff or a lost worker, which is not dispatch.
    if (job.attemptsStarted <= 1 && job.processedOn) this.latency.observe((job.processedOn - job.timestamp) / 1000);
    const info = await this.jobs.get(jobId);
    if (!info || isTerminal(info.state)) {
      this.stats.skipped++;
      return 'skipped';
    }
    if (info.state === 'paused') {
      // Held, not dropped: back to the queue for a while, no attempt used; it runs once resumed.
      await job.moveToDelayed(this.opts.clock.now() + PAUSED_RECHECK_MS, token);
      throw new DelayedError();
    }
    const base = { j: jobId, i: index, a: attempt, w: this.opts.id };
    // A repeat attempt of a task that became final meanwhile (quarantined, or counted from a duplicate).
    if (attempt > 1 && (await this.store.isTaskDone(jobId, index))) {
      this.stats.skipped++;
      return 'skipped';
    }
    // Infrastructure losses: workers that vanished (stalls) and hand-backs (preemption, drain).
    const infraLosses = job.stalledCounter + (job.data.h ?? 0);
    if (infraLosses > info.policy.maxInfraRetries) {
      const err: TaskError = { code: 'INFRA_BUDGET_EXHAUSTED', message: `lost ${infraLosses} times to infrastructure (budget ${info.policy.maxInfraRetries})`, retryable: false };
      await this.reporter.addAndWait({ ...base, t: 'f', at: this.opts.clock.now(), err });
      this.stats.failed++;
      throw new UnrecoverableError(err.message);
    }
    const key = `${jobId}.${index}`;
    const task: RunningTask = { jobId, index, abort: new AbortController(), startedAt: this.opts.clock.now() };
    const gang = gangOf(info.spec);
    if (gang) {
      const joined = await this.gangs.join(jobId, { rank: index, worker: this.opts.id, addr: this.addr, holder: token ?? '' });
      if (joined.outcome === 'ended') {
        this.stats.skipped++;
        return 'skipped';
      }
      if (joined.outcome === 'busy') {
        // One rank of a gang per VM: another VM takes this one.
        await job.moveToDelayed(this.opts.clock.now() + GANG_BUSY_RECHECK_MS, token);
        throw new DelayedError();
      }
      task.gang = { gen: joined.gen, formed: false };
    }
    this.running.set(key, task);
    this.idleSince = undefined;
    this.reporter.add({ ...base, t: 's', at: this.opts.clock.now() });
    try {
      const placement = gang ? await this.meetGang(task, gang, token ?? '') : undefined;
      let lastProgressAt = 0;
      const out = await runTask({
        run: info.spec.run,
        // Builtins run in this process and read no environment: skip building one.
        env: 'builtin' in info.spec.run ? {} : await this.taskEnv(info, index, attempt, placement),
        timeoutMs: info.policy.timeoutMs,
        killGraceMs: info.policy.stopGraceMs,
        signal: task.abort.signal,
        clock: this.opts.clock,
        onCheckpoint: (data) => this.reporter.add({ ...base, t: 'c', at: this.opts.clock.now(), data }),
        onProgress: (data) => {
          // At most one a second per task: a trainer may print every step.
          const now = this.opts.clock.now();
          if (now - lastProgressAt < 1000) return;
          lastProgressAt = now;
          this.reporter.add({ ...base, t: 'p', at: now, data });
        },
      });
      const now = this.opts.clock.now();
      const logUri = await this.keepLog(info, base, out.logTail);
      const result = out.result || logUri ? { ...out.result, ...(logUri ? { log: logUri } : {}) } : undefined;
      await this.reporter.addAndWait({ ...base, t: 'ok', at: now, d: now - task.startedAt, ...(result ? { result } : {}) });
      this.stats.succeeded++;
      return 'ok';
    } catch (err) {
      return await this.onTaskError(err, job, token, task, info, base);
    } finally {
      this.running.delete(key);
      if (this.running.size === 0) this.idleSince = this.opts.clock.now();
    }
  }

  /**
   * A gang rank waits for the rest of its generation. Formed: where each rank runs. Otherwise the rank
   * does not run now: it is stopped as `gang` (back to the queue, no attempt used), or fails for good
   * when its gang can never meet again.
   */
  private async meetGang(task: RunningTask, gang: Gang, holder: string): Promise<GangPlacement> {
    const joined = task.gang!;
    const held = async (): Promise<boolean> => (await this.jobs.get(task.jobId))?.state === 'paused';
    const met = await awaitGang({ gangs: this.gangs, jobId: task.jobId, rank: task.index, size: gang.size, gen: joined.gen, holder, timeoutMs: gang.timeoutMs, clock: this.opts.clock, signal: task.abort.signal, held });
    this.log.info({ jobId: task.jobId, rank: task.index, gen: joined.gen, outcome: met.outcome }, 'gang rendezvous');
    switch (met.outcome) {
      case 'formed':
        joined.formed = true;
        return { rank: task.index, hosts: met.hosts, port: gang.port };
      case 'incomplete':
        throw new TaskFailure('GANG_INCOMPLETE', `rank ${met.rank} of this gang already finished for good: the gang cannot meet again`, '');
      case 'broken':
      case 'timeout':
        this.stopTask(task, 'gang');
        throw new TaskFailure('TASK_CANCELLED', `the gang did not meet (${met.outcome})`, '');
      case 'stopped':
        throw new TaskFailure('TASK_CANCELLED', 'stopped at the gang rendezvous', '');
      case 'held':
        this.stopTask(task, 'paused');
        throw new TaskFailure('TASK_CANCELLED', 'the job was paused at the gang rendezvous', '');
    }
  }

  private async onTaskError(err: unknown, job: Job<TaskData>, token: string | undefined, task: RunningTask, info: CachedJob, base: Omit<TaskEvent, 't' | 'at'>): Promise<string> {
    let reason = task.abort.signal.reason as StopReason | undefined;
    const now = this.opts.clock.now();
    const d = now - task.startedAt;
    // A gang rank that ran and ends any way but success ends its generation: the other ranks are
    // stopped and handed back, and the whole gang runs again together. (One that never got past the
    // rendezvous has left it already: the others may still meet with its next run.) If another rank
    // ended it first, this rank's own end (a trainer that lost its peer) is the gang's doing: handed
    // back, no attempt used.
    if (task.gang?.formed && !(await this.endGeneration(task)) && reason === undefined) reason = 'gang';
    if (reason === 'cancel') {
      await this.reporter.addAndWait({ ...base, t: 'rel', at: now, d });
      return 'cancelled';
    }
    if (reason === 'paused') {
      // Like any task of a paused job: back to the queue for a while, no attempt and no infrastructure
      // loss used; it runs (and meets its gang) once the job is resumed.
      await this.reporter.addAndWait({ ...base, t: 'rel', at: now, d });
      await job.moveToDelayed(now + PAUSED_RECHECK_MS, token);
      throw new DelayedError();
    }
    // A task that dies while the worker is stopping was stopped with it (systemd or a preemption can
    // signal the task's process group directly): that is the infrastructure's doing, not the task's.
    // A gang rank stopped because its generation ended is handed back the same way.
    if (reason === 'handback' || reason === 'gang' || this.state === 'draining') {
      // Back to the queue without using an attempt: the worker is going away, not the task failing.
      await this.reporter.addAndWait({ ...base, t: 'rel', at: now, d });
      this.stats.handedBack++;
      await job.updateData({ ...job.data, h: (job.data.h ?? 0) + 1 });
      await job.moveToDelayed(this.opts.clock.now(), token);
      throw new DelayedError();
    }
    const e = toTaskError(err);
    const log = err instanceof TaskFailure ? err.logTail : '';
    await this.keepLog(info, base, log);
    const final = isFinalFailure(e.retryable, base.a, info.policy);
    await this.reporter.addAndWait({ ...base, t: final ? 'f' : 'r', at: now, d, err: e, log });
    this.log.info({ jobId: base.j, index: base.i, attempt: base.a, code: e.code, final }, 'task failed');
    if (final) {
      this.stats.failed++;
      throw new UnrecoverableError(e.message);
    }
    this.stats.retried++;
    throw new Error(e.message);
  }

  /**
   * Keeps a command task's log in the artifact store, per attempt. A store that fails must not fail the
   * task: the log is a convenience, the outcome is what counts.
   */
  private async keepLog(info: CachedJob, base: { j: string; i: number; a: number }, log: string): Promise<string | undefined> {
    const store = this.opts.artifacts;
    if (!store || 'builtin' in info.spec.run || log === '') return undefined;
    const key = taskLogKey(base.j, base.i, base.a);
    try {
      await store.put(key, log, { contentType: 'text/plain; charset=utf-8' });
      return store.uri(key);
    } catch (err) {
      this.log.warn({ err, jobId: base.j, index: base.i }, 'task log not kept');
      return undefined;
    }
  }

  /** The task's environment (the shared contract), with this machine's checkpoint folder for training. */
  private async taskEnv(info: CachedJob, index: number, attempt: number, gang?: GangPlacement): Promise<Record<string, string>> {
    const training = info.spec.kind === 'training';
    const last = training ? await this.store.checkpoint(info.id) : undefined;
    // A listing job's inputs are its lines of the listing stored with the job, not in the spec.
    const range = listedInputRange(info.spec, index);
    const inputs = range ? await this.store.listedInputs(info.id, range.from, range.to) : undefined;
    return taskEnvironment({
      ...(inputs ? { inputs } : {}),
      jobId: info.id,
      spec: info.spec,
      index,
      attempt,
      workerId: this.opts.id,
      checkpointDir: join(this.opts.artifactsDir ?? join(process.cwd(), '.kumo', 'artifacts'), 'jobs', info.id, 'checkpoints'),
      resumeFrom: typeof last?.uri === 'string' ? last.uri : '',
      ...(gang ? { gang } : {}),
    });
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
        await this.checkGangs();
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
      ['leave rendezvous', async () => {
        for (const t of this.running.values()) if (t.gang && !t.gang.formed) this.stopTask(t, 'handback');
      }],
      ['drain', () => this.waitForIdle(handBackNow ? 0 : this.opts.drainMs)],
      ['hand back', async () => {
        for (const t of this.running.values()) this.stopTask(t, 'handback');
        await this.waitForIdle(15_000);
      }],
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

/** The first non-internal IPv4 address of this machine (a VM's internal IP on GCE), else loopback. */
export function defaultAddress(): string {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}
