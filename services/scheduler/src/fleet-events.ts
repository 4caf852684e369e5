import {
  LIVE_VM_STATES,
  type Bus,
  type BusMessage,
  type Clock,
  type FleetStore,
  type Logger,
  type Subscription,
} from '@kumo/shared';

export interface FleetEventsOptions {
  bus: Bus;
  fleet: FleetStore;
  clock: Clock;
  logger: Logger;
  /** After every zone of a pool ran out of capacity, wait this long before asking again. */
  stockoutBackoffMs?: number;
  /** After a quota error, wait this long (quota rarely comes back by itself). */
  quotaBackoffMs?: number;
}

/**
 * Applies the provisioner's fleet events to the VM records: the one place VM states move on the
 * scheduler side. Repeats and late events are no-ops (the move is refused), so nothing is billed twice.
 */
export class FleetEventsHandler {
  private sub: Subscription | undefined;

  constructor(private readonly opts: FleetEventsOptions) {}

  async start(): Promise<void> {
    this.sub = await this.opts.bus.subscribe('fleet', 'scheduler', (m) => this.handle(m));
  }

  async handle(msg: BusMessage<'fleet'>): Promise<void> {
    const e = msg.data;
    const before = await this.opts.fleet.get(e.name);
    const res = await this.opts.fleet.move(e.name, e.pool, e.state, {
      zone: e.zone,
      reason: e.reason ?? e.error?.message,
      errorCode: e.error?.code,
      // Billed at the price of the region it landed in (the request recorded the pool's dearest).
      ...(e.state === 'running' ? { runningAt: e.at, priceUsdPerHour: e.priceUsdPerHour } : {}),
    });
    this.opts.logger.info(
      { vm: e.name, pool: e.pool, state: e.state, from: res.from, moved: res.moved, reason: e.reason },
      'fleet event',
    );
    if (!res.moved) return;
    if (e.state === 'running') await this.opts.fleet.clearCapacityBlock(e.pool);
    if (!LIVE_VM_STATES.includes(e.state) && before) await this.opts.fleet.bill(before, e.at);
    const code = e.error?.code;
    if (e.state === 'failed' && (code === 'ZONE_RESOURCE_POOL_EXHAUSTED' || code === 'QUOTA_EXCEEDED')) {
      const backoff =
        code === 'QUOTA_EXCEEDED' ? (this.opts.quotaBackoffMs ?? 5 * 60_000) : (this.opts.stockoutBackoffMs ?? 60_000);
      await this.opts.fleet.blockCapacity(e.pool, {
        code,
        reason: e.reason ?? code,
        spot: before?.spot ?? true,
        until: this.opts.clock.now() + backoff,
      });
    }
    // Metrics hook (kumo_provision_errors_total): last, after the move, so a redelivery (the move then
    // refused) is not counted again; a failing count must not undo the handling above, so it is only logged.
    if (e.error)
      await this.opts.fleet
        .countProvisionError(e.pool, e.error.code)
        .catch((err: unknown) => this.opts.logger.warn({ err, pool: e.pool }, 'provision error not counted'));
  }

  async stop(): Promise<void> {
    await this.sub?.close();
  }
}
