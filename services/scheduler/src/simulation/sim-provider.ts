import { KumoError, regionOf, type Clock, type CreateVmRequest, type FleetProvider, type VmInfo } from '@kumo/shared';
import type { Rng } from './rng';

export interface SimTaskRun {
  jobId: string;
  index: number;
  attempt: number;
  startedAt: number;
  endsAt: number;
  fails: boolean;
}

/** A simulated VM: boots, runs tasks in its slots, may be preempted. */
export interface SimVm {
  name: string;
  pool: string;
  zone: string;
  spot: boolean;
  slots: number;
  createdAt: number;
  readyAt: number;
  preemptAt: number;
  preempted: boolean;
  running: SimTaskRun[];
  /** Task time run on this VM, ms. */
  busyMs: number;
  /** When it last went idle (for heartbeats); undefined while busy. */
  idleSince: number | undefined;
  lastBeat: number;
}

export interface SimProviderOptions {
  clock: Clock;
  rng: Rng;
  bootMs: number;
  preemptionsPerVmHour: number;
  /** A zone's or a whole region's stockout, from and to in absolute virtual ms. */
  stockouts: { zone?: string; region?: string; from: number; to: number }[];
}

/**
 * The simulated fleet behind the FleetProvider seam: creates fail with the real error codes inside
 * stockout windows, VMs boot after a delay and spot ones are preempted at random (seeded).
 */
export class SimProvider implements FleetProvider {
  readonly kind = 'sim' as const;
  readonly vms = new Map<string, SimVm>();
  created = 0;
  /** VMs made, by zone. */
  readonly createdByZone: Record<string, number> = {};

  constructor(private readonly opts: SimProviderOptions) {}

  async create(req: CreateVmRequest): Promise<VmInfo> {
    const now = this.opts.clock.now();
    const existing = this.vms.get(req.name);
    if (existing) return this.info(existing);
    const region = regionOf(req.zone);
    if (this.opts.stockouts.some((s) => (s.zone === req.zone || s.region === region) && now >= s.from && now < s.to)) {
      throw new KumoError('ZONE_RESOURCE_POOL_EXHAUSTED', `no capacity in ${req.zone}`, {
        details: { zone: req.zone },
      });
    }
    const readyAt = now + this.opts.bootMs;
    const vm: SimVm = {
      name: req.name,
      pool: req.spec.pool,
      zone: req.zone,
      spot: req.spec.spot,
      slots: req.spec.slots,
      createdAt: now,
      readyAt,
      preemptAt: req.spec.spot
        ? readyAt + this.opts.rng.exponential(this.opts.preemptionsPerVmHour) * 3_600_000
        : Infinity,
      preempted: false,
      running: [],
      busyMs: 0,
      idleSince: undefined,
      lastBeat: -Infinity,
    };
    this.vms.set(req.name, vm);
    this.created++;
    this.createdByZone[req.zone] = (this.createdByZone[req.zone] ?? 0) + 1;
    return this.info(vm);
  }

  async delete(name: string): Promise<void> {
    this.vms.delete(name);
  }

  async list(): Promise<VmInfo[]> {
    return [...this.vms.values()].map((v) => this.info(v));
  }

  async close(): Promise<void> {
    this.vms.clear();
  }

  private info(vm: SimVm): VmInfo {
    const now = this.opts.clock.now();
    return {
      name: vm.name,
      pool: vm.pool,
      zone: vm.zone,
      status: vm.preempted ? 'terminated' : now < vm.readyAt ? 'provisioning' : 'running',
      preempted: vm.preempted,
      createdAt: vm.createdAt,
    };
  }
}
