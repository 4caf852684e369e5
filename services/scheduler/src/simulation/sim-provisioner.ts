import { createInZones, isKumoError, regionOf, type Bus, type BusMessage, type Clock, type FleetEvent, type Logger } from '@kumo/shared';
import type { SimProvider } from './sim-provider';

/**
 * Stands in for the provisioner service in a simulation: the same zone walk (shared createInZones) and
 * the same fleet events, on the simulated provider, with no timers of its own (the driver calls it).
 */
export class SimProvisioner {
  constructor(private readonly opts: { bus: Bus; provider: SimProvider; clock: Clock; logger: Logger }) {}

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
    try {
      const placed = await createInZones(this.opts.provider, { name: cmd.name, spec: cmd.spec, requestId: cmd.requestId }, cmd.spec.zones, { clock: this.opts.clock });
      await this.emit({ type: 'vm', name: cmd.name, pool: cmd.pool, state: 'running', zone: placed.zone, at });
    } catch (err) {
      if (!isKumoError(err)) throw err;
      const reason = err.code === 'ZONE_RESOURCE_POOL_EXHAUSTED' ? `waiting for capacity in ${[...new Set(cmd.spec.zones.map(regionOf))].join(', ')}` : err.message;
      await this.emit({ type: 'vm', name: cmd.name, pool: cmd.pool, state: 'failed', reason, error: { code: err.code, message: err.message }, at });
    }
  }

  /** Preempted VMs become fleet events and are deleted, as the real reconciliation does. */
  async reconcile(): Promise<number> {
    let n = 0;
    for (const vm of [...this.opts.provider.vms.values()]) {
      if (!vm.preempted) continue;
      await this.emit({ type: 'vm', name: vm.name, pool: vm.pool, state: 'preempted', zone: vm.zone, reason: 'preempted', at: this.opts.clock.now() });
      await this.opts.provider.delete(vm.name);
      n++;
    }
    return n;
  }

  private async emit(e: FleetEvent): Promise<void> {
    await this.opts.bus.publish('fleet', e);
  }
}
