import { poolHourlyPrice, type Bus, type BusMessage, type Clock, type JobStore, type Logger, type PoolStore, type Subscription, type TaskEvent } from '@kumo/shared';

const PRICE_TTL_MS = 10_000;

/**
 * Applies workers' task events to the jobs: one atomic, idempotent script call per job per message.
 * Redelivered or duplicated messages change nothing; a message is acked only once every job in it
 * was applied, so a crash in between means a redelivery, never a lost count.
 */
export class ProgressIngester {
  private sub: Subscription | undefined;
  private readonly pools = new Map<string, string>();
  private readonly prices = new Map<string, { usdPerSlotMs: number; at: number }>();
  /** Events applied, for tests and metrics. */
  applied = 0;

  constructor(private readonly opts: { bus: Bus; jobs: JobStore; pools: PoolStore; clock: Clock; logger: Logger; concurrency?: number }) {}

  async start(): Promise<void> {
    this.sub = await this.opts.bus.subscribe('progress', 'ingester', (m) => this.handle(m), { concurrency: this.opts.concurrency ?? 8 });
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
        const pool = await this.poolOf(jobId);
        if (pool === undefined) {
          this.opts.logger.warn({ jobId, events: events.length }, 'events for an unknown job dropped');
          return;
        }
        await this.opts.jobs.applyEvents(jobId, pool, events, await this.usdPerSlotMs(pool));
        this.applied += events.length;
      }),
    );
  }

  private async poolOf(jobId: string): Promise<string | undefined> {
    let pool = this.pools.get(jobId);
    if (pool === undefined) {
      pool = await this.opts.jobs.pool(jobId);
      if (pool === undefined) return undefined;
      if (this.pools.size > 10_000) this.pools.clear();
      this.pools.set(jobId, pool);
    }
    return pool;
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
