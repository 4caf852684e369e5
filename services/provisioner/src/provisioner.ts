import type { Redis } from 'ioredis';
import {
  runCleanupSteps,
  createGangInZones,
  createInZones,
  createRedis,
  FleetStore,
  isKumoError,
  type KumoError,
  PoolStore,
  StockoutMemory,
  runningEvent,
  failedEvents,
  type Bus,
  type BusMessage,
  type Clock,
  type FleetEvent,
  type FleetProvider,
  type Logger,
  type ProvisionCommand,
  type VmSpec,
  type Subscription,
} from '@kumo/shared';

export interface ProvisionerOptions {
  redisUrl: string;
  prefix: string;
  bus: Bus;
  provider: FleetProvider;
  clock: Clock;
  logger: Logger;
  reconcileIntervalMs?: number;
  /** A zone (a region, when all its zones did) that answered "no capacity" is tried last for this long. */
  stockoutMemoryMs?: number;
  /** A VM record younger than this is not judged missing (the create may be in flight). */
  graceMs?: number;
  /** Run reconcile() on a timer (default). Off when a driver calls it itself (simulations). */
  autoReconcile?: boolean;
}

/** The provisioner's life: idle -> running -> stopping -> stopped. */
export type ProvisionerState = 'idle' | 'running' | 'stopping' | 'stopped';

/**
 * Turns provision commands into VMs through a FleetProvider, reports fleet events, and reconciles: a VM
 * that vanished or was preempted becomes an event; one that no pool wants is deleted, so nothing is left
 * running and billing.
 */
export class Provisioner {
  state: ProvisionerState = 'idle';
  private readonly log: Logger;
  private readonly redis: Redis;
  private readonly fleet: FleetStore;
  private readonly pools: PoolStore;
  private sub: Subscription | undefined;
  private readonly stockouts: StockoutMemory;
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: ProvisionerOptions) {
    this.log = opts.logger.child({ component: 'provisioner', provider: opts.provider.kind });
    this.redis = createRedis(opts.redisUrl, 'command', 'provisioner', { logger: this.log });
    this.fleet = new FleetStore(this.redis, { prefix: opts.prefix, clock: opts.clock });
    this.pools = new PoolStore(this.redis, { prefix: opts.prefix, clock: opts.clock });
    this.stockouts = new StockoutMemory(opts.stockoutMemoryMs ?? 10 * 60_000);
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.sub = await this.opts.bus.subscribe('provision', 'provisioner', (m) => this.handle(m), {
      concurrency: 8,
      ackDeadlineMs: 120_000,
    });
    this.state = 'running';
    if (this.opts.autoReconcile !== false) this.loop = this.reconcileLoop();
    this.log.info('provisioner started');
  }

  private async handle(msg: BusMessage<'provision'>): Promise<void> {
    const cmd = msg.data;
    if (cmd.type === 'delete') {
      await this.opts.provider.delete(cmd.name, cmd.zone ?? '');
      await this.emit({
        type: 'vm',
        name: cmd.name,
        pool: cmd.pool,
        state: 'deleted',
        reason: cmd.reason,
        at: this.opts.clock.now(),
      });
      return;
    }
    if (cmd.type === 'create-gang') return this.createGang(cmd);
    // A redelivered create for a VM that is already up, or was given up on: nothing to do.
    if (!(await this.stillWanted(cmd.name))) return;
    const zones = this.stockouts.order(cmd.spec.zones, this.opts.clock.now());
    try {
      const placed = await createInZones(
        this.opts.provider,
        { name: cmd.name, spec: cmd.spec, requestId: cmd.requestId },
        zones,
        { logger: this.log, clock: this.opts.clock },
      );
      this.stockouts.record(placed.skipped, this.opts.clock.now());
      await this.emitRunning(cmd.name, cmd.pool, placed.zone, cmd.spec);
    } catch (err) {
      if (!isKumoError(err)) throw err; // unknown: leave unacked, the bus redelivers
      await this.emitFailed([cmd.name], cmd.pool, zones, err);
    }
  }

  /** A gang's VMs: one zone for all of them (the gang walker's pick), or a failed event for each. */
  private async createGang(cmd: Extract<ProvisionCommand, { type: 'create-gang' }>): Promise<void> {
    const names = cmd.members.map((m) => m.name);
    const wanted = await Promise.all(names.map((n) => this.stillWanted(n)));
    if (!wanted.some(Boolean)) return;
    const zones = this.stockouts.order(cmd.zones ?? cmd.spec.zones, this.opts.clock.now());
    try {
      const placed = await createGangInZones(
        this.opts.provider,
        { id: cmd.gang, members: cmd.members, spec: cmd.spec },
        zones,
        { logger: this.log, clock: this.opts.clock },
      );
      this.stockouts.record(placed.skipped, this.opts.clock.now());
      for (const vm of placed.vms) await this.emitRunning(vm.name, cmd.pool, placed.zone, cmd.spec);
    } catch (err) {
      if (!isKumoError(err)) throw err;
      await this.emitFailed(names, cmd.pool, zones, err);
    }
  }

  private async stillWanted(name: string): Promise<boolean> {
    const record = await this.fleet.get(name);
    return !record || record.state === 'requested' || record.state === 'provisioning';
  }

  private async emitRunning(name: string, pool: string, zone: string, spec: VmSpec): Promise<void> {
    await this.emit(runningEvent(name, pool, zone, spec, this.opts.clock.now()));
  }

  private async emitFailed(names: string[], pool: string, zones: string[], err: KumoError): Promise<void> {
    if (err.code === 'ZONE_RESOURCE_POOL_EXHAUSTED') this.stockouts.recordAll(zones, this.opts.clock.now());
    this.log.warn({ vms: names, pool, code: err.code }, 'vm create failed');
    for (const e of failedEvents(names, pool, zones, err, this.opts.clock.now())) await this.emit(e);
  }

  private async emit(e: FleetEvent): Promise<void> {
    await this.opts.bus.publish('fleet', e);
  }

  /** One pass: provider truth against the records. Public for tests. */
  async reconcile(): Promise<{ lost: string[]; preempted: string[]; orphans: string[] }> {
    const now = this.opts.clock.now();
    const grace = this.opts.graceMs ?? 30_000;
    const vms = await this.opts.provider.list();
    const seen = new Map(vms.map((v) => [v.name, v]));
    const out = { lost: [] as string[], preempted: [] as string[], orphans: [] as string[] };
    const pools = await this.pools.list();
    const known = new Set<string>();
    for (const pool of pools) {
      for (const rec of await this.fleet.live(pool.name)) {
        known.add(rec.name);
        const vm = seen.get(rec.name);
        if (vm && !vm.preempted && vm.status !== 'terminated') continue;
        if (!vm && (rec.state === 'requested' || now - rec.stateAt < grace)) continue;
        if (vm?.preempted) {
          out.preempted.push(rec.name);
          await this.emit({
            type: 'vm',
            name: rec.name,
            pool: pool.name,
            state: 'preempted',
            zone: vm.zone,
            reason: 'preempted by the cloud',
            at: now,
          });
          await this.opts.provider.delete(vm.name, vm.zone);
        } else if (rec.state === 'stopping') {
          await this.emit({ type: 'vm', name: rec.name, pool: pool.name, state: 'deleted', at: now });
        } else {
          out.lost.push(rec.name);
          await this.emit({
            type: 'vm',
            name: rec.name,
            pool: pool.name,
            state: 'lost',
            reason: vm ? 'instance terminated' : 'instance vanished',
            at: now,
          });
          if (vm) await this.opts.provider.delete(vm.name, vm.zone);
        }
      }
    }
    for (const vm of vms) {
      if (known.has(vm.name)) continue;
      // Held by the provider, wanted by no record: left over from a restart or a shrunk pool. Billing.
      const rec = await this.fleet.get(vm.name);
      if (rec && (rec.state === 'requested' || rec.state === 'provisioning')) continue;
      out.orphans.push(vm.name);
      this.log.warn({ vm: vm.name, zone: vm.zone, pool: vm.pool }, 'deleting a VM no pool wants');
      await this.opts.provider.delete(vm.name, vm.zone);
    }
    return out;
  }

  private async reconcileLoop(): Promise<void> {
    while (!this.stopSignal.signal.aborted) {
      try {
        await this.reconcile();
      } catch (err) {
        if (!this.stopSignal.signal.aborted) this.log.warn({ err }, 'reconcile failed; retrying');
      }
      await this.opts.clock.sleep(this.opts.reconcileIntervalMs ?? 5000, this.stopSignal.signal);
    }
  }

  /**
   * Stop taking commands and reconciling. `releaseFleet` also deletes every VM (the local fleet ends with
   * the control plane; cloud VMs are left to the next provisioner, which reconciles them). Safe twice.
   */
  stop(opts: { releaseFleet?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopping';
      this.stopSignal.abort();
      const steps: [string, () => Promise<unknown>][] = [
        ['subscription', async () => this.sub?.close()],
        ['reconcile loop', async () => this.loop],
        ['fleet', async () => (opts.releaseFleet ? this.opts.provider.close() : undefined)],
        ['redis', () => this.redis.quit()],
      ];
      await runCleanupSteps(steps, (step, err) => this.log.warn({ err, step }, 'provisioner shutdown step failed'));
      this.state = 'stopped';
      this.log.info('provisioner stopped');
    })();
    return this.stopping;
  }
}
