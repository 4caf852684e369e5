import { Counter, Gauge, type Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import { readProvisionErrors, type FleetStore, type Keys, type WorkerRegistry } from '@kumo/shared';
import { HighWater } from './high-water';

/** Reasons every pool shows from the start (at 0), so increase() sees a pool's first one too. */
const KNOWN_REASONS = ['ZONE_RESOURCE_POOL_EXHAUSTED', 'QUOTA_EXCEEDED', 'PROVIDER_UNAVAILABLE', 'PROVIDER_REJECTED'];

/** The fleet: VMs by pool, zone and state, failed creates by reason, money spent, workers and slots. */
export class FleetMetrics {
  private readonly vms: Gauge;
  private readonly errors: Counter;
  private readonly spend: Counter;
  private readonly burn: Gauge;
  private readonly slots: Gauge;
  private readonly hw = new HighWater();

  constructor(
    registry: Registry,
    private readonly deps: { redis: Redis; keys: Keys; fleet: FleetStore; workers: WorkerRegistry },
  ) {
    const registers = [registry];
    this.vms = new Gauge({
      name: 'kumo_vms',
      help: 'Live VMs (or local worker processes) by pool, zone (none before placement) and state',
      labelNames: ['pool', 'zone', 'state'],
      registers,
    });
    this.errors = new Counter({
      name: 'kumo_provision_errors_total',
      help: 'VM creates that failed, by pool and reason (the error code)',
      labelNames: ['pool', 'reason'],
      registers,
    });
    this.spend = new Counter({
      name: 'kumo_pool_spend_usd_total',
      help: 'Money spent on the pool’s VMs: ended ones, plus live ones up to now',
      labelNames: ['pool'],
      registers,
    });
    this.burn = new Gauge({
      name: 'kumo_pool_burn_usd_per_hour',
      help: 'What the pool’s running VMs cost per hour now',
      labelNames: ['pool'],
      registers,
    });
    this.slots = new Gauge({
      name: 'kumo_worker_slots',
      help: 'Task slots of live workers, busy or free',
      labelNames: ['pool', 'state'],
      registers,
    });
  }

  async refresh(pools: string[]): Promise<void> {
    const { fleet, workers, redis, keys } = this.deps;
    const rows = await Promise.all(
      pools.map(async (pool) => {
        const live = await fleet.live(pool);
        const [spend, hb] = await Promise.all([fleet.poolSpend(pool, live), workers.list(pool)]);
        return { pool, live, spend, hb };
      }),
    );
    const errors = await readProvisionErrors(redis, keys.metricsProvisionErrors());
    for (const m of [this.vms, this.errors, this.spend, this.burn, this.slots]) m.reset();
    for (const { pool, live, spend, hb } of rows) {
      for (const vm of live) this.vms.inc({ pool, zone: vm.zone ?? 'none', state: vm.state });
      this.spend.inc({ pool }, this.hw.of('spend', { pool }, spend.costUsd));
      this.burn.set({ pool }, spend.hourlyUsd);
      const busy = hb.reduce((n, w) => n + Math.min(w.running, w.slots), 0);
      const all = hb.reduce((n, w) => n + w.slots, 0);
      this.slots.set({ pool, state: 'busy' }, busy);
      this.slots.set({ pool, state: 'free' }, all - busy);
      for (const reason of KNOWN_REASONS) this.errors.inc({ pool, reason }, 0);
    }
    for (const e of errors) this.errors.inc({ pool: e.pool, reason: e.reason }, e.count);
  }
}
