import {
  JobSpecCache,
  poolHourlyPrice,
  type Bus,
  type BusMessage,
  type Clock,
  type JobStore,
  type Logger,
  type PoolStore,
  type Subscription,
  type TaskEvent,
} from '@kumo/shared';
import { CheckpointGate } from './checkpoint-gate';

const PRICE_TTL_MS = 10_000;

/**
 * Applies workers' task events to the jobs: one atomic, idempotent script call per job per message.
 * Redelivered or duplicated messages change nothing; a message is acked only once every job in it
 * was applied, so a crash in between means a redelivery, never a lost count.
 */
export class ProgressIngester {
  private sub: Subscription | undefined;
  /** Each job's pool and user (neither ever changes), from the scheduler's one cache of job specs. */
  private readonly specs: JobSpecCache;
  private readonly prices = new Map<string, { usdPerSlotMs: number; at: number }>();
  /** Events handled (applied, or dropped by the checks), for tests and metrics. */
  applied = 0;
  /** What a worker reports as a checkpoint is checked here, the one place every report lands. */
  readonly checkpoints: CheckpointGate;

  constructor(
    private readonly opts: {
      bus: Bus;
      jobs: JobStore;
      pools: PoolStore;
      clock: Clock;
      logger: Logger;
      concurrency?: number;
      /**
       * A job's new checkpoints, checked, before they are recorded (checkpoint evaluations); a throw
       * means the message is redelivered, and the same checkpoints come again.
       */
      onCheckpoints?: (jobId: string, user: string, checkpoints: TaskEvent[]) => Promise<void>;
      /** The scheduler's one cache of job specs; an ingester alone (tests) makes its own. */
      specs?: JobSpecCache;
    },
  ) {
    this.specs = opts.specs ?? new JobSpecCache(opts.jobs, { clock: opts.clock });
    this.checkpoints = new CheckpointGate({ jobs: opts.jobs, specs: this.specs, logger: opts.logger });
  }

  async start(): Promise<void> {
    this.sub = await this.opts.bus.subscribe('progress', 'ingester', (m) => this.handle(m), {
      concurrency: this.opts.concurrency ?? 8,
    });
  }

  private async handle(msg: BusMessage<'progress'>): Promise<void> {
    const byJob = new Map<string, TaskEvent[]>();
    for (const e of msg.data.events) {
      let list = byJob.get(e.j);
      if (!list) byJob.set(e.j, (list = []));
      list.push(e);
    }
    await Promise.all(
      [...byJob].map(async ([jobId, events]) => {
        const owner = await this.specs.fixed(jobId);
        if (owner === undefined) {
          this.opts.logger.warn({ jobId, events: events.length }, 'events for an unknown job dropped');
          return;
        }
        const checked = await this.checkpoints.check(jobId, events);
        if (checked.checkpoints.length > 0) await this.opts.onCheckpoints?.(jobId, owner.user, checked.checkpoints);
        if (checked.events.length > 0)
          await this.opts.jobs.applyEvents(
            jobId,
            owner.pool,
            checked.events,
            await this.usdPerSlotMs(owner.pool),
            owner.user,
          );
        this.applied += events.length;
      }),
    );
  }

  /** A task's cost: its share of the VM (one slot) for as long as it ran. */
  private async usdPerSlotMs(pool: string): Promise<number> {
    const now = this.opts.clock.now();
    const hit = this.prices.get(pool);
    if (hit && now - hit.at < PRICE_TTL_MS) return hit.usdPerSlotMs;
    const p = await this.opts.pools.get(pool);
    const usdPerSlotMs = p ? poolHourlyPrice(p) / p.slotsPerVm / 3_600_000 : 0;
    this.prices.set(pool, { usdPerSlotMs, at: now });
    return usdPerSlotMs;
  }

  async stop(): Promise<void> {
    await this.sub?.close();
  }
}
