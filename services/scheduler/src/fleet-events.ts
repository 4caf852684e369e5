import type { Bus, BusMessage, FleetStore, Logger, Subscription } from '@kumo/shared';

/** Applies the provisioner's fleet events to the VM records. Repeats and late events are no-ops. */
export class FleetEventsHandler {
  private sub: Subscription | undefined;

  constructor(private readonly opts: { bus: Bus; fleet: FleetStore; logger: Logger }) {}

  async start(): Promise<void> {
    this.sub = await this.opts.bus.subscribe('fleet', 'scheduler', (m) => this.handle(m));
  }

  private async handle(msg: BusMessage<'fleet'>): Promise<void> {
    const e = msg.data;
    const res = await this.opts.fleet.move(e.name, e.pool, e.state, {
      zone: e.zone,
      reason: e.reason ?? e.error?.message,
      errorCode: e.error?.code,
    });
    this.opts.logger.info({ vm: e.name, pool: e.pool, state: e.state, from: res.from, moved: res.moved, reason: e.reason }, 'fleet event');
  }

  async stop(): Promise<void> {
    await this.sub?.close();
  }
}
