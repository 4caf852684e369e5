import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  gangNeeds,
  jobViews,
  Keys,
  planGangs,
  poolHourlyPrice,
  regionOf,
  type Bus,
  type Clock,
  type FleetStore,
  type Logger,
  type Pool,
  type PoolStore,
  type VmRecord,
  type VmSpec,
  type WorkerHeartbeat,
  type WorkerRegistry,
  vmSpecOf,
  type GangPlan,
  type GangRequest,
} from '@kumo/shared';

export interface AutoscalerOptions {
  redis: Redis;
  prefix: string;
  bus: Bus;
  pools: PoolStore;
  fleet: FleetStore;
  workers: WorkerRegistry;
  clock: Clock;
  logger: Logger;
  /** What workers on new VMs are told (where Redis or the API is). */
  workerSettings?: VmSpec['worker'];
  /** A VM that has not come up (no heartbeat) this long after it was requested is given up on. */
  bootTimeoutMs?: number;
  /** Seedable randomness for VM names and request ids (simulations repeat exactly). */
  randomHex?: (bytes: number) => string;
  uuid?: () => string;
}

const defaultRandomHex = (bytes: number): string => randomBytes(bytes).toString('hex');
const NO_GANGS: GangPlan = { ranks: 0, vms: 0, requests: [] };

export interface ScaleDecision {
  pool: string;
  demand: number;
  desired: number;
  live: number;
  created: string[];
  deleted: string[];
  reasons: string[];
}

/**
 * Sizes each pool to its demand: desired VMs = ceil(unfinished tasks / slots per VM), clamped to
 * [min, max]; scales up in batches; scales down only VMs whose worker reports idle past the pool's
 * idle timeout, never one with a running task. Every decision leaves its reasons on the pool.
 */
export class Autoscaler {
  private readonly keys: Keys;
  private readonly log: Logger;

  constructor(private readonly opts: AutoscalerOptions) {
    this.keys = new Keys(opts.prefix);
    this.log = opts.logger.child({ component: 'autoscaler' });
  }

  /** Unfinished tasks of the pool's live jobs. */
  async demand(pool: string): Promise<number> {
    const ids = await this.opts.redis.smembers(this.keys.poolActive(pool));
    let demand = 0;
    for (const j of await jobViews.feed.readMany(this.opts.redis, this.keys, ids)) {
      if (!j) continue;
      const done = j.succeeded + j.failed;
      // A paused job needs VMs only for what it has running (its queued tasks wait, delayed). A job at
      // its budget still runs what was fed before the stop (the budget counted it): all of it. A job
      // waiting for its dependencies needs none yet.
      if (j.state === 'paused') demand += j.running;
      else if (j.state === 'budget_exhausted') demand += Math.max(0, j.fed - done);
      else if ((j.state === 'queued' || j.state === 'running') && !(j.deps && !j.depsMet)) demand += j.total - done;
    }
    return demand;
  }

  async scalePool(pool: Pool): Promise<ScaleDecision> {
    const now = this.opts.clock.now();
    const [demand, vms, workers] = await Promise.all([
      this.demand(pool.name),
      this.opts.fleet.live(pool.name),
      this.opts.workers.list(pool.name),
    ]);
    const byId = new Map<string, WorkerHeartbeat>(workers.map((w) => [w.id, w]));
    const reasons: string[] = [];
    const created: string[] = [];
    const deleted: string[] = [];

    // VMs that never came up are given up on, so the pool does not wait on them forever.
    const bootTimeout = this.opts.bootTimeoutMs ?? 15 * 60_000;
    for (const vm of vms) {
      if (
        (vm.state === 'requested' || vm.state === 'provisioning') &&
        !byId.has(vm.name) &&
        now - vm.createdAt > bootTimeout
      ) {
        await this.opts.fleet.move(vm.name, pool.name, 'lost', { reason: 'no heartbeat within the boot timeout' });
        await this.opts.bus.publish('provision', {
          type: 'delete',
          pool: pool.name,
          name: vm.name,
          ...(vm.zone ? { zone: vm.zone } : {}),
          reason: 'boot timeout',
        });
        reasons.push(`gave up on ${vm.name}: not up within ${Math.round(bootTimeout / 1000)} s`);
      }
    }
    const live = vms.filter((v) => v.state === 'requested' || v.state === 'provisioning' || v.state === 'running');
    // A gang's ranks want a VM each, placed together (gang-plan.ts); the rest share slots. A pool of one
    // zone and no placement policy places every VM together anyway: its gangs need no requests of their own.
    const placesGangs = pool.zones.length > 1 || pool.placement !== undefined;
    const gangs = placesGangs
      ? planGangs(await gangNeeds(this.opts.redis, this.opts.prefix, pool.name), live)
      : NO_GANGS;
    const singleWanted = Math.ceil(Math.max(0, demand - gangs.ranks) / pool.slotsPerVm);
    const wanted = singleWanted + gangs.vms;
    let desired = Math.min(pool.max, Math.max(pool.min, wanted));
    if (wanted > pool.max) reasons.push(`demand of ${demand} tasks wants ${wanted} VMs; capped at max ${pool.max}`);

    // Capacity: after a stockout in every zone, or a quota error, wait before asking again; a spot pool
    // that may fall back asks for standard VMs meanwhile.
    const block = await this.opts.fleet.capacityBlock(pool.name);
    let spot = pool.spot;
    if (block) {
      const where = [...new Set(pool.zones.map(regionOf))].join(', ');
      if (block.code === 'ZONE_RESOURCE_POOL_EXHAUSTED' && block.spot && pool.spot && pool.fallbackToStandard) {
        spot = false;
        reasons.push(`spot capacity out in ${where}; falling back to standard VMs`);
      } else {
        reasons.push(block.code === 'QUOTA_EXCEEDED' ? block.reason : `waiting for capacity in ${where}`);
      }
    }
    const price = poolHourlyPrice(pool, spot);
    if (pool.maxHourlyUsd !== undefined && price > 0) {
      const affordable = Math.floor(pool.maxHourlyUsd / price);
      if (desired > affordable) {
        desired = affordable;
        reasons.push(`budget reached: $${pool.maxHourlyUsd}/h allows ${affordable} VM(s) at $${price}/h`);
      }
    }

    const mayCreate = !block || spot !== block.spot;
    if (desired > live.length && mayCreate) {
      // A gang is one request, all of it or none, whatever the batch size. One the pool cannot hold
      // whole beside its other VMs gets VMs one by one below, as any demand (its ranks may then span zones).
      for (const g of gangs.requests) {
        if (live.length + created.length + g.count > desired) continue;
        created.push(...(await this.requestGang(pool, spot, price, g)));
        reasons.push(`asking for gang ${g.gang}'s ${g.count} VM(s) together, in one zone`);
      }
      const n = Math.max(0, Math.min(pool.scaleUpBatch, desired - live.length - created.length));
      for (let k = 0; k < n; k++) created.push(await this.requestVm(pool, spot, price));
      if (n > 0) reasons.push(`scaling up by ${n} to ${live.length + created.length} of ${desired} wanted`);
    } else if (desired < live.length) {
      const idle = this.idleVms(live, byId, pool, now);
      const n = Math.min(pool.scaleDownBatch, live.length - desired, idle.length);
      for (const vm of idle.slice(0, n)) {
        await this.opts.fleet.move(vm.name, pool.name, 'stopping', { reason: 'idle past the idle timeout' });
        await this.opts.bus.publish('provision', {
          type: 'delete',
          pool: pool.name,
          name: vm.name,
          ...(vm.zone ? { zone: vm.zone } : {}),
          reason: 'idle',
        });
        deleted.push(vm.name);
      }
      if (n > 0) reasons.push(`scaling down ${n} idle VM(s)`);
      else
        reasons.push(`${live.length - desired} VM(s) more than needed; none idle for ${pool.idleTimeoutSeconds} s yet`);
    }
    const decision: ScaleDecision = {
      pool: pool.name,
      demand,
      desired,
      live: live.length + created.length - deleted.length,
      created,
      deleted,
      reasons,
    };
    const spend = await this.opts.fleet.poolSpend(pool.name, vms);
    await this.opts.pools.setStatus(pool.name, {
      desired,
      live: decision.live,
      running: live.filter((v) => v.state === 'running').length,
      demand,
      reasons,
      costUsd: Math.round(spend.costUsd * 100) / 100,
      hourlyUsd: Math.round(spend.hourlyUsd * 100) / 100,
    });
    if (created.length || deleted.length)
      this.log.info(
        { pool: pool.name, demand, desired, created: created.length, deleted: deleted.length },
        'pool scaled',
      );
    return decision;
  }

  /** Running VMs whose worker has had no task for the idle timeout, longest idle first. */
  private idleVms(live: VmRecord[], byId: Map<string, WorkerHeartbeat>, pool: Pool, now: number): VmRecord[] {
    const out: { vm: VmRecord; since: number }[] = [];
    for (const vm of live) {
      if (vm.state !== 'running') continue;
      const hb = byId.get(vm.name);
      if (!hb || hb.running > 0 || hb.idleSince === undefined) continue;
      if (now - hb.idleSince >= pool.idleTimeoutSeconds * 1000) out.push({ vm, since: hb.idleSince });
    }
    return out.sort((a, b) => a.since - b.since).map((o) => o.vm);
  }

  private async requestVm(pool: Pool, spot: boolean, priceUsdPerHour: number): Promise<string> {
    // Predictable, valid GCE name: a retry of the same request reuses it, so it cannot make a second VM.
    const name = `kumo-${pool.name}-${(this.opts.randomHex ?? defaultRandomHex)(4)}`.slice(0, 63);
    const requestId = (this.opts.uuid ?? randomUUID)();
    await this.opts.fleet.move(name, pool.name, 'requested', { requestId, spot: spot ? 1 : 0, priceUsdPerHour });
    const spec = vmSpecOf(pool, spot, this.opts.workerSettings ?? {});
    await this.opts.bus.publish('provision', { type: 'create', pool: pool.name, name, requestId, spec });
    return name;
  }

  /** One provision command for a gang's missing VMs, so the provisioner places them in one zone. */
  private async requestGang(pool: Pool, spot: boolean, priceUsdPerHour: number, g: GangRequest): Promise<string[]> {
    const members = [];
    for (let k = 0; k < g.count; k++) {
      const name = `kumo-${pool.name}-${(this.opts.randomHex ?? defaultRandomHex)(4)}`.slice(0, 63);
      const requestId = (this.opts.uuid ?? randomUUID)();
      await this.opts.fleet.move(name, pool.name, 'requested', {
        requestId,
        spot: spot ? 1 : 0,
        priceUsdPerHour,
        gang: g.gang,
      });
      members.push({ name, requestId });
    }
    const spec = vmSpecOf(pool, spot, this.opts.workerSettings ?? {});
    await this.opts.bus.publish('provision', {
      type: 'create-gang',
      pool: pool.name,
      gang: g.gang,
      members,
      spec,
      ...(g.zones ? { zones: g.zones } : {}),
    });
    return members.map((m) => m.name);
  }
}
