import type { KumoError } from '../errors';
import { regionOf } from '../pools/pool';
import { vmHourlyPrice } from '../pools/prices';
import type { FleetEvent } from './messages';
import type { VmSpec } from './vm';

/** A VM the walk placed: up, billed at the price of the region it landed in (flex-start at the standard price). */
export function runningEvent(name: string, pool: string, zone: string, spec: VmSpec, at: number): FleetEvent {
  const priceUsdPerHour = vmHourlyPrice(spec.machineType, regionOf(zone), spec.spot && !spec.flexStart, spec.prices);
  return { type: 'vm', name, pool, state: 'running', zone, priceUsdPerHour, at };
}

/** The VMs a failed walk was for (one, or a whole gang), with the reason a user reads on the pool. */
export function failedEvents(
  names: readonly string[],
  pool: string,
  zones: readonly string[],
  err: KumoError,
  at: number,
): FleetEvent[] {
  const reason =
    err.code === 'ZONE_RESOURCE_POOL_EXHAUSTED'
      ? `waiting for capacity in ${[...new Set(zones.map(regionOf))].join(', ')}`
      : err.code === 'QUOTA_EXCEEDED'
        ? `quota ${String(err.details?.metric ?? 'GPUS')} exhausted`
        : err.message;
  return names.map((name) => ({
    type: 'vm',
    name,
    pool,
    state: 'failed',
    reason,
    error: { code: err.code, message: err.message },
    at,
  }));
}
