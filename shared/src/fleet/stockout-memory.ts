import { regionOf } from '../pools/pool';
import type { ZoneSkip } from './zone-walker';

/**
 * Which zones and regions recently answered "no capacity", so the next walk starts where capacity
 * may be. A region all of whose zones ran out goes behind the pool's other regions as a whole (its
 * zones kept together, so a VM does not hop between regions zone by zone); within a region, a zone
 * that ran out goes behind its neighbours. Memory fades after `memoryMs`: capacity comes back.
 */
export class StockoutMemory {
  private readonly zones = new Map<string, number>();

  constructor(private readonly memoryMs: number) {}

  /** A walk's skips: each zone that answered with a capacity error, at `now`. */
  record(skipped: readonly ZoneSkip[], now: number): void {
    for (const s of skipped) if (s.code === 'ZONE_RESOURCE_POOL_EXHAUSTED') this.zones.set(s.zone, now);
  }

  /** Every zone given ran out at `now` (a walk that placed nothing). */
  recordAll(zones: readonly string[], now: number): void {
    for (const z of zones) this.zones.set(z, now);
  }

  /** Regions of `zones` whose every zone ran out within the memory. */
  regionsOut(zones: readonly string[], now: number): string[] {
    return this.groups(zones)
      .filter(([, zs]) => zs.every((z) => this.fresh(z, now)))
      .map(([region]) => region);
  }

  /** The pool's zones, regions that ran out last, and within a region zones that ran out last. */
  order(zones: readonly string[], now: number): string[] {
    const groups = this.groups(zones).map(([region, zs]) => ({
      out: zs.every((z) => this.fresh(z, now)),
      zones: [...zs.filter((z) => !this.fresh(z, now)), ...zs.filter((z) => this.fresh(z, now))],
      region,
    }));
    return [...groups.filter((g) => !g.out), ...groups.filter((g) => g.out)].flatMap((g) => g.zones);
  }

  private fresh(zone: string, now: number): boolean {
    const at = this.zones.get(zone);
    return at !== undefined && now - at < this.memoryMs;
  }

  /** Zones grouped by region, regions in the order the pool first names them. */
  private groups(zones: readonly string[]): [string, string[]][] {
    const by = new Map<string, string[]>();
    for (const z of zones) {
      const r = regionOf(z);
      let list = by.get(r);
      if (!list) by.set(r, (list = []));
      list.push(z);
    }
    return [...by.entries()];
  }
}
