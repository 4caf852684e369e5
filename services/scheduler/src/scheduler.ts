import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  runCleanupSteps,
  createRedis,
  FleetStore,
  JobSpecCache,
  JobStore,
  Keys,
  PoolStore,
  WorkerRegistry,
  type Bus,
  type Clock,
  type Logger,
  type VmSpec,
} from '@kumo/shared';
import { Autoscaler } from './autoscaler';
import { Feeder } from './feeder';
import { Preemptor } from './preemption';
import { FleetEventsHandler } from './fleet-events';
import { LeaderLease } from './leader-lease';
import { CheckpointEvaluations } from './checkpoint-evaluations';
import { ProgressIngester } from './progress-ingester';
import { SimulationRunner } from './simulation/simulation-runner';
import { TaskReconciler } from './task-reconciler';

export interface SchedulerOptions {
  redisUrl: string;
  prefix: string;
  bus: Bus;
  clock: Clock;
  logger: Logger;
  feedIntervalMs?: number;
  scaleIntervalMs?: number;
  leaderTtlMs?: number;
  workerSettings?: VmSpec['worker'];
  /** Most tasks queued per pool at once (the feeder's window cap). */
  maxWindow?: number;
  /** After a stockout in every zone, wait this long before asking for VMs again (default 60 s). */
  stockoutBackoffMs?: number;
  /** The most evaluation jobs one training job's checkpoints start (default 100). */
  maxEvaluationsPerJob?: number;
  /** Whose midnight starts a month: the month a cost is added to (the API must agree). Default Asia/Tokyo. */
  budgetTimeZone?: string;
  /**
   * The longest task lock a worker takes (agents' KUMO_TASK_LOCK_MS, 30 s by default; HTTPS leases, 60 s):
   * a task lost from its queue is found within twice this. Default 60 s.
   */
  taskLockMs?: number;
}

/** Jobs the scheduler's spec cache keeps: more than the live jobs of every pool, so a pass over them all never evicts. */
const SPEC_CACHE_JOBS = 10_000;

/** The scheduler's life: idle -> running -> stopping -> stopped. */
export type SchedulerState = 'idle' | 'running' | 'stopping' | 'stopped';

/**
 * The scheduler: ingests progress (every instance), and, while it holds the leader lease, feeds the
 * pools' queues and scales the pools. All its state is in Redis and the bus: it can die at any time.
 */
export class Scheduler {
  state: SchedulerState = 'idle';
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly log: Logger;
  private readonly redis: Redis;
  readonly jobs: JobStore;
  /** What every part reads of a job's spec, read once per job (specs never change). */
  readonly specs: JobSpecCache;
  readonly pools: PoolStore;
  readonly fleet: FleetStore;
  readonly feeder: Feeder;
  /** Frees slots for higher priorities in pools that allow it. */
  readonly preemptor: Preemptor;
  readonly autoscaler: Autoscaler;
  readonly ingester: ProgressIngester;
  readonly checkpointEvaluations: CheckpointEvaluations;
  readonly reconciler: TaskReconciler;
  private readonly fleetEvents: FleetEventsHandler;
  private readonly lease: LeaderLease;
  private readonly simulations: SimulationRunner;
  private readonly stopSignal = new AbortController();
  private loops: Promise<void>[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: SchedulerOptions) {
    this.log = this.componentLog('scheduler');
    this.redis = createRedis(opts.redisUrl, 'command', 'scheduler', { logger: this.log });
    const { prefix, clock } = opts;
    this.jobs = new JobStore(this.redis, {
      prefix,
      clock,
      ...(opts.budgetTimeZone ? { budgetTimeZone: opts.budgetTimeZone } : {}),
    });
    this.pools = new PoolStore(this.redis, { prefix, clock });
    this.fleet = new FleetStore(this.redis, { prefix, clock });
    // One cache of job specs for every part (feeder, reconciler, ingester, checkpoint checks), bounded
    // by one rule (least recently used past SPEC_CACHE_JOBS). Its state is read on every get(): the
    // reconciler acts on it; the others ask only for what never changes (fixed()).
    this.specs = new JobSpecCache(this.jobs, { clock, stateTtlMs: 0, maxJobs: SPEC_CACHE_JOBS });
    this.feeder = new Feeder({
      redis: this.redis,
      prefix,
      jobs: this.jobs,
      specs: this.specs,
      logger: this.log,
      poolNames: async () => (await this.pools.list()).map((p) => p.name),
      ...(opts.maxWindow ? { maxWindow: opts.maxWindow } : {}),
    });
    this.preemptor = new Preemptor({
      redis: this.redis,
      keys: this.jobs.keys,
      jobs: this.jobs,
      clock,
      logger: this.log,
    });
    this.autoscaler = new Autoscaler({
      redis: this.redis,
      prefix,
      bus: opts.bus,
      pools: this.pools,
      fleet: this.fleet,
      workers: new WorkerRegistry(this.redis, { prefix, clock }),
      clock,
      logger: this.log,
      ...(opts.workerSettings ? { workerSettings: opts.workerSettings } : {}),
    });
    this.checkpointEvaluations = new CheckpointEvaluations({
      jobs: this.jobs,
      specs: this.specs,
      logger: this.componentLog('checkpoint-evaluations'),
      ...(opts.maxEvaluationsPerJob !== undefined ? { maxPerJob: opts.maxEvaluationsPerJob } : {}),
    });
    this.ingester = new ProgressIngester({
      bus: opts.bus,
      jobs: this.jobs,
      specs: this.specs,
      pools: this.pools,
      clock,
      logger: this.componentLog('ingester'),
      onCheckpoints: (jobId, user, checkpoints) => this.checkpointEvaluations.onCheckpoints(jobId, user, checkpoints),
    });
    this.fleetEvents = new FleetEventsHandler({
      bus: opts.bus,
      fleet: this.fleet,
      clock,
      logger: this.componentLog('fleet-events'),
      ...(opts.stockoutBackoffMs !== undefined ? { stockoutBackoffMs: opts.stockoutBackoffMs } : {}),
    });
    this.reconciler = new TaskReconciler({
      redis: this.redis,
      prefix,
      jobs: this.jobs,
      specs: this.specs,
      bus: opts.bus,
      clock,
      logger: this.componentLog('reconciler'),
      lockMs: opts.taskLockMs ?? 60_000,
    });
    this.simulations = new SimulationRunner({ redisUrl: opts.redisUrl, prefix, logger: this.log });
    this.lease = new LeaderLease(this.redis, new Keys(prefix).leader('scheduler'), this.id, opts.leaderTtlMs ?? 5000);
  }

  /** One child logger per component, each with this scheduler's id (a child of a child would repeat `component`). */
  private componentLog(component: string): Logger {
    return this.opts.logger.child({ component, schedulerId: this.id });
  }

  get isLeader(): boolean {
    return this.lease.isLeader;
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    await this.ingester.start();
    await this.fleetEvents.start();
    this.simulations.start();
    this.state = 'running';
    this.loops = [
      this.every(Math.floor((this.opts.leaderTtlMs ?? 5000) / 3), 'lease', async () => {
        const was = this.lease.isLeader;
        const now = await this.lease.tick();
        if (now !== was) this.log.info({ leader: now }, now ? 'leading' : 'no longer leading');
      }),
      this.every(this.opts.feedIntervalMs ?? 100, 'feed', async () => {
        if (!this.lease.isLeader) return;
        let again = false;
        for (const pool of await this.pools.list()) {
          const r = await this.feeder.feed(pool);
          await this.preemptor.preempt(pool);
          again ||= r.starved && r.added > 0;
        }
        // Workers drained the queue before this tick: they are idle now, so come back at once.
        return again ? 5 : undefined;
      }),
      this.every(Math.floor((this.opts.taskLockMs ?? 60_000) / 2), 'reconcile', async () => {
        if (!this.lease.isLeader) return;
        for (const pool of await this.pools.list()) await this.reconciler.reconcile(pool.name);
      }),
      this.every(this.opts.scaleIntervalMs ?? 2000, 'scale', async () => {
        if (!this.lease.isLeader) return;
        for (const pool of await this.pools.list()) await this.autoscaler.scalePool(pool);
      }),
    ];
    this.log.info('scheduler started');
  }

  /** Runs `fn` every `ms`, or after the delay it returns. */
  private async every(ms: number, name: string, fn: () => Promise<number | void>): Promise<void> {
    while (!this.stopSignal.signal.aborted) {
      let next: number | void = undefined;
      try {
        next = await fn();
      } catch (err) {
        if (!this.stopSignal.signal.aborted) this.log.warn({ err, loop: name }, 'scheduler loop failed; retrying');
      }
      await this.opts.clock.sleep(next ?? ms, this.stopSignal.signal);
    }
  }

  /** Stop loops, release the lease (so another takes over at once), close subscriptions. Safe twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping';
      this.stopSignal.abort();
      await Promise.allSettled(this.loops);
      const steps: [string, () => Promise<unknown>][] = [
        ['ingester', () => this.ingester.stop()],
        ['fleet events', () => this.fleetEvents.stop()],
        ['simulations', () => this.simulations.stop()],
        ['lease', () => this.lease.release()],
        ['feeder', () => this.feeder.close()],
        ['reconciler', () => this.reconciler.close()],
        ['redis', () => this.redis.quit()],
      ];
      await runCleanupSteps(steps, (step, err) => this.log.warn({ err, step }, 'scheduler shutdown step failed'));
      this.state = 'stopped';
      this.log.info('scheduler stopped');
    })();
    return this.stopping;
  }
}
