import type { Redis } from 'ioredis';
import { wallClock, type Clock } from '../clock';
import { Keys } from '../store/keys';
import { storeScripts } from '../store/scripts';
import { countProvisionError } from '../metrics/provision-errors';
import { LIVE_VM_STATES, VM_TRANSITIONS, type VmState } from './vm';

export interface VmRecord {
  name: string;
  pool: string;
  state: VmState;
  zone?: string;
  reason?: string;
  requestId?: string;
  spot?: boolean;
  /** USD per hour while it runs (from the pool's prices when it was requested). */
  priceUsdPerHour?: number;
  /** When it came up (billing starts). */
  runningAt?: number;
  /** The gang (training job id) it was placed for, with the rest of that gang's VMs in one zone. */
  gang?: string;
  createdAt: number;
  stateAt: number;
}

/** Why a pool cannot grow for now: set by the fleet events of failed creates, read by the autoscaler. */
export interface CapacityBlock {
  code: 'ZONE_RESOURCE_POOL_EXHAUSTED' | 'QUOTA_EXCEEDED';
  reason: string;
  /** The failed create asked for spot VMs (so a fallback to standard may still work). */
  spot: boolean;
  until: number;
}

/** The one place a VM record's state moves (through the moveVm script and VM_TRANSITIONS). */
export class FleetStore {
  private readonly keys: Keys;
  private readonly clock: Clock;

  constructor(
    private readonly redis: Redis,
    opts: { prefix?: string; clock?: Clock } = {},
  ) {
    this.keys = new Keys(opts.prefix);
    this.clock = opts.clock ?? wallClock;
  }

  /** Returns whether the record moved; a repeat or an out-of-order event is a no-op, not an error. */
  async move(
    name: string,
    pool: string,
    to: VmState,
    extra: Record<string, string | number | undefined> = {},
  ): Promise<{ moved: boolean; from?: VmState }> {
    const from = (Object.keys(VM_TRANSITIONS) as VmState[]).filter((s) => VM_TRANSITIONS[s].includes(to));
    const fields: (string | number)[] = ['pool', pool];
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) fields.push(k, v);
    const res = await storeScripts.moveVm.run(
      this.redis,
      { vm: this.keys.vm(name), poolVms: this.keys.poolVms(pool) },
      [name, to, from.join(','), this.clock.now(), LIVE_VM_STATES.includes(to) ? '0' : '1', ...fields],
    );
    if (res[0] === -1) return { moved: false };
    return { moved: res[0] === 1, ...(res[1] ? { from: res[1] as VmState } : {}) };
  }

  /**
   * Adds a VM's run to its pool's spend when it ends. Called once per VM end (the caller only calls it
   * when the move to a terminal state happened, so a redelivered event cannot bill twice).
   */
  async bill(vm: VmRecord, endedAt: number): Promise<number> {
    if (vm.runningAt === undefined || !vm.priceUsdPerHour) return 0;
    const usd = (Math.max(0, endedAt - vm.runningAt) / 3_600_000) * vm.priceUsdPerHour;
    await this.redis.hincrbyfloat(this.keys.poolCost(vm.pool), 'endedUsd', usd);
    await this.redis.hincrbyfloat(this.keys.poolCost(vm.pool), 'endedVmMs', Math.max(0, endedAt - vm.runningAt));
    return usd;
  }

  /** Money spent on the pool: ended VMs, plus live ones up to now; and what it burns per hour now. */
  async poolSpend(pool: string, live?: VmRecord[]): Promise<{ costUsd: number; hourlyUsd: number; vmHours: number }> {
    const now = this.clock.now();
    const vms = live ?? (await this.live(pool));
    const h = await this.redis.hmget(this.keys.poolCost(pool), 'endedUsd', 'endedVmMs');
    let costUsd = Number(h[0] ?? 0);
    let vmMs = Number(h[1] ?? 0);
    let hourlyUsd = 0;
    for (const vm of vms) {
      if (vm.runningAt === undefined) continue;
      costUsd += ((now - vm.runningAt) / 3_600_000) * (vm.priceUsdPerHour ?? 0);
      vmMs += now - vm.runningAt;
      hourlyUsd += vm.priceUsdPerHour ?? 0;
    }
    return { costUsd, hourlyUsd, vmHours: vmMs / 3_600_000 };
  }

  /** Metrics: one failed create, by its error code (rendered by the API as kumo_provision_errors_total). */
  async countProvisionError(pool: string, code: string | undefined): Promise<void> {
    await countProvisionError(this.redis, this.keys.metricsProvisionErrors(), pool, code);
  }

  async blockCapacity(pool: string, block: CapacityBlock): Promise<void> {
    await this.redis.set(
      this.keys.poolCapacity(pool),
      JSON.stringify(block),
      'PX',
      Math.max(1, block.until - this.clock.now()) + 60_000,
    );
  }

  async capacityBlock(pool: string): Promise<CapacityBlock | undefined> {
    const raw = await this.redis.get(this.keys.poolCapacity(pool));
    if (!raw) return undefined;
    const b = JSON.parse(raw) as CapacityBlock;
    return b.until > this.clock.now() ? b : undefined;
  }

  async clearCapacityBlock(pool: string): Promise<void> {
    await this.redis.del(this.keys.poolCapacity(pool));
  }

  async get(name: string): Promise<VmRecord | undefined> {
    const h = await this.redis.hgetall(this.keys.vm(name));
    return h.state ? toVm(name, h) : undefined;
  }

  /** The pool's live VMs (requested, provisioning, running, stopping). */
  async live(pool: string): Promise<VmRecord[]> {
    const names = await this.redis.smembers(this.keys.poolVms(pool));
    if (names.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const n of names) pipe.hgetall(this.keys.vm(n));
    const res = (await pipe.exec()) ?? [];
    const out: VmRecord[] = [];
    names.forEach((n, i) => {
      const h = res[i]?.[1] as Record<string, string> | undefined;
      if (h?.state) out.push(toVm(n, h));
    });
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.name < b.name ? -1 : 1));
  }
}

function toVm(name: string, h: Record<string, string>): VmRecord {
  return {
    name,
    pool: h.pool ?? '',
    state: h.state as VmState,
    ...(h.zone ? { zone: h.zone } : {}),
    ...(h.reason ? { reason: h.reason } : {}),
    ...(h.requestId ? { requestId: h.requestId } : {}),
    ...(h.spot ? { spot: h.spot === '1' } : {}),
    ...(h.priceUsdPerHour ? { priceUsdPerHour: Number(h.priceUsdPerHour) } : {}),
    ...(h.runningAt ? { runningAt: Number(h.runningAt) } : {}),
    ...(h.gang ? { gang: h.gang } : {}),
    createdAt: Number(h.createdAt ?? 0),
    stateAt: Number(h.stateAt ?? 0),
  };
}
