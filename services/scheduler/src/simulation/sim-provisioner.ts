import {
  createGangInZones,
  createInZones,
  failedEvents,
  isKumoError,
  runningEvent,
  StockoutMemory,
} from '@kumo/shared';
import type { Bus, BusMessage, Clock, FleetEvent, KumoError, Logger, VmSpec } from '@kumo/shared';
import type { SimProvider } from './sim-provider';

/**
 * Stands in for the provisioner service in a simulation: the same zone and gang walks (shared
 * createInZones, createGangInZones), the same region-aware stockout memory and the same fleet events,
 * on the simulated provider, with no timers of its own (the driver calls it).
 */
export class SimProvisioner {
  private readonly stockouts: StockoutMemory;

  constructor(
    private readonly opts: { bus: Bus; provider: SimProvider; clock: Clock; logger: Logger; stockoutMemoryMs?: number },
  ) {
    this.stockouts = new StockoutMemory(opts.stockoutMemoryMs ?? 10 * 60_000);
  }

  async start(): Promise<void> {
    await this.opts.bus.subscribe('provision', 'provisioner', (m) => this.handle(m));
  }

  private async handle(msg: BusMessage<'provision'>): Promise<void> {
    const cmd = msg.data;
    const at = this.opts.clock.now();
    if (cmd.type === 'delete') {
      await this.opts.provider.delete(cmd.name);
      await this.emit({ type: 'vm', name: cmd.name, pool: cmd.pool, state: 'deleted', reason: cmd.reason, at });
      return;
    }
    const zones = this.stockouts.order(cmd.type === 'create-gang' ? (cmd.zones ?? cmd.spec.zones) : cmd.spec.zones, at);
    const names = cmd.type === 'create-gang' ? cmd.members.map((m) => m.name) : [cmd.name];
    try {
      if (cmd.type === 'create-gang') {
        const placed = await createGangInZones(
          this.opts.provider,
          { id: cmd.gang, members: cmd.members, spec: cmd.spec },
          zones,
          { clock: this.opts.clock },
        );
        this.stockouts.record(placed.skipped, at);
        for (const vm of placed.vms) await this.running(vm.name, cmd.pool, placed.zone, cmd.spec);
      } else {
        const placed = await createInZones(
          this.opts.provider,
          { name: cmd.name, spec: cmd.spec, requestId: cmd.requestId },
          zones,
          { clock: this.opts.clock },
        );
        this.stockouts.record(placed.skipped, at);
        await this.running(cmd.name, cmd.pool, placed.zone, cmd.spec);
      }
    } catch (err) {
      if (!isKumoError(err)) throw err;
      await this.failed(names, cmd.pool, zones, err);
    }
  }

  private async running(name: string, pool: string, zone: string, spec: VmSpec): Promise<void> {
    await this.emit(runningEvent(name, pool, zone, spec, this.opts.clock.now()));
  }

  private async failed(names: string[], pool: string, zones: string[], err: KumoError): Promise<void> {
    if (err.code === 'ZONE_RESOURCE_POOL_EXHAUSTED') this.stockouts.recordAll(zones, this.opts.clock.now());
    for (const e of failedEvents(names, pool, zones, err, this.opts.clock.now())) await this.emit(e);
  }

  /** Preempted VMs become fleet events and are deleted, as the real reconciliation does. */
  async reconcile(): Promise<number> {
    let n = 0;
    for (const vm of [...this.opts.provider.vms.values()]) {
      if (!vm.preempted) continue;
      await this.emit({
        type: 'vm',
        name: vm.name,
        pool: vm.pool,
        state: 'preempted',
        zone: vm.zone,
        reason: 'preempted',
        at: this.opts.clock.now(),
      });
      await this.opts.provider.delete(vm.name);
      n++;
    }
    return n;
  }

  private async emit(e: FleetEvent): Promise<void> {
    await this.opts.bus.publish('fleet', e);
  }
}
