import { createHash } from 'node:crypto';
import { wallClock, type Clock } from '../clock';
import { isKumoError, KumoError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';
import { regionOf } from '../pools/pool';
import type { CreateVmRequest, FleetProvider } from './provider';
import type { VmInfo } from './vm';

export interface ZoneWalkOptions {
  /** Default: no logging. */
  logger?: Logger;
  /** Extra tries in the same zone after a retryable PROVIDER_UNAVAILABLE (the create surely did not happen). Default 2. */
  unavailableRetries?: number;
  /** Wait before such a retry; doubles each time. Default 1000 ms. */
  retryDelayMs?: number;
  /** Default: the wall clock. */
  clock?: Clock;
}

export interface ZoneSkip {
  zone: string;
  code: ErrorCode;
}

export interface ZoneWalkResult {
  vm: VmInfo;
  zone: string;
  /** The zones passed over before `zone`, in order, with why. */
  skipped: ZoneSkip[];
}

/**
 * Creates one VM, trying `zones` in order. It moves to the next zone only after a capacity error
 * (ZONE_RESOURCE_POOL_EXHAUSTED: that create is over and made nothing); a QUOTA_EXCEEDED rules out every
 * remaining zone of that region. Any other error ends the walk: after an unknown outcome, moving on could
 * make a second VM under the same name in another zone.
 *
 * Each zone gets its own requestId, derived from the request's and the zone (a name-based UUID). Compute
 * Engine answers a repeated requestId with the first operation, so reusing one id in a second zone would
 * return the first zone's stockout; deriving keeps a repeat of the whole walk idempotent zone by zone.
 */
export async function createInZones(
  provider: FleetProvider,
  req: Omit<CreateVmRequest, 'zone'>,
  zones: readonly string[],
  opts: ZoneWalkOptions = {},
): Promise<ZoneWalkResult> {
  if (zones.length === 0) throw new KumoError('INVALID_INPUT', 'a pool needs at least one zone');
  const skipped: ZoneSkip[] = [];
  const quotaSpent = new Set<string>();

  for (const zone of zones) {
    const region = regionOf(zone);
    if (quotaSpent.has(region)) {
      skipped.push({ zone, code: 'QUOTA_EXCEEDED' });
      continue;
    }
    const zoneReq: CreateVmRequest = { ...req, zone, requestId: zoneRequestId(req.requestId, zone) };
    const tried = await tryZone(provider, zoneReq, opts);
    if ('vm' in tried) {
      opts.logger?.info({ name: req.name, zone, skipped: skipped.length }, 'zone walk placed vm');
      return { vm: tried.vm, zone, skipped };
    }
    if (tried.skip === 'QUOTA_EXCEEDED') quotaSpent.add(region);
    skipped.push({ zone, code: tried.skip });
  }
  throw walkExhausted(req.name, skipped);
}

/**
 * One create in one zone: the VM, or why the walk may go on (a capacity error in this zone, or the
 * region's quota spent). A retryable PROVIDER_UNAVAILABLE is tried again in place; any other error is
 * thrown, since after an unknown outcome moving on could make a second VM.
 */
export async function tryZone(
  provider: FleetProvider,
  zoneReq: CreateVmRequest,
  opts: ZoneWalkOptions = {},
): Promise<{ vm: VmInfo } | { skip: 'ZONE_RESOURCE_POOL_EXHAUSTED' | 'QUOTA_EXCEEDED' }> {
  const clock = opts.clock ?? wallClock;
  const retries = opts.unavailableRetries ?? 2;
  const baseDelay = opts.retryDelayMs ?? 1000;
  const { name, zone } = zoneReq;
  for (let attempt = 0; ; attempt++) {
    try {
      return { vm: await provider.create(zoneReq) };
    } catch (err) {
      if (!isKumoError(err)) throw err;
      if (err.code === 'ZONE_RESOURCE_POOL_EXHAUSTED') {
        opts.logger?.info({ name, zone }, 'zone walk: no capacity, next zone');
        return { skip: err.code };
      }
      if (err.code === 'QUOTA_EXCEEDED') {
        opts.logger?.warn(
          { name, zone, region: regionOf(zone), details: err.details },
          'zone walk: quota spent for region',
        );
        return { skip: err.code };
      }
      if (err.code === 'PROVIDER_UNAVAILABLE' && err.retryable && attempt < retries) {
        opts.logger?.warn({ name, zone, attempt }, 'zone walk: provider unavailable, same zone again');
        await clock.sleep(baseDelay * 2 ** attempt);
        continue;
      }
      throw err;
    }
  }
}

/** Every zone was passed over. Capacity comes back by itself; quota does not until someone raises it. */
export function walkExhausted(name: string, skipped: ZoneSkip[]): KumoError {
  const allQuota = skipped.every((s) => s.code === 'QUOTA_EXCEEDED');
  return new KumoError(allQuota ? 'QUOTA_EXCEEDED' : 'ZONE_RESOURCE_POOL_EXHAUSTED', `no zone could take ${name}`, {
    details: { name, skipped },
  });
}

/** A name-based (version 5 layout) UUID from the request's id and the zone: the same inputs, the same id. */
export function zoneRequestId(requestId: string, zone: string): string {
  const h = createHash('sha1').update(`kumo-zone-request:${requestId}:${zone}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
