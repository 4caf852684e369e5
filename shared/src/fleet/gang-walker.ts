import { KumoError } from '../errors';
import { regionOf } from '../pools/pool';
import type { GangVm } from './messages';
import type { FleetProvider } from './provider';
import type { VmInfo, VmSpec } from './vm';
import { tryZone, walkExhausted, zoneRequestId, type ZoneSkip, type ZoneWalkOptions } from './zone-walker';

export interface GangWalkResult {
  zone: string;
  vms: VmInfo[];
  skipped: ZoneSkip[];
  /** The compact placement policy the VMs carry, if the pool asked for one. */
  placementPolicy?: string;
}

/**
 * Places every VM of a gang in one zone, or none: the walker picks the zone for the gang, not each
 * rank for itself. In each zone (in order, as createInZones) it creates the members one by one; when
 * one answers with a capacity or quota error, the members already made in that zone are deleted
 * (a partial gang cannot run, and would bill) and the walk goes on to the next zone. Any other error
 * ends the walk as in createInZones, leaving what was made for the caller to reconcile.
 *
 * With `spec.placement === 'compact'` the provider first makes the region's compact placement policy
 * for exactly this many VMs (Compute Engine wants exactly `vmCount` instances created with it).
 */
export async function createGangInZones(
  provider: FleetProvider,
  gang: { id: string; members: readonly GangVm[]; spec: VmSpec },
  zones: readonly string[],
  opts: ZoneWalkOptions = {},
): Promise<GangWalkResult> {
  if (zones.length === 0) throw new KumoError('INVALID_INPUT', 'a pool needs at least one zone');
  if (gang.members.length === 0) throw new KumoError('INVALID_INPUT', 'a gang needs at least one VM');
  const skipped: ZoneSkip[] = [];
  const quotaSpent = new Set<string>();
  const policies = new Map<string, string>();

  for (const zone of zones) {
    const region = regionOf(zone);
    if (quotaSpent.has(region)) {
      skipped.push({ zone, code: 'QUOTA_EXCEEDED' });
      continue;
    }
    let spec = gang.spec;
    let placementPolicy: string | undefined;
    if (spec.placement === 'compact' && provider.ensurePlacementPolicy) {
      placementPolicy = policies.get(region);
      if (!placementPolicy) {
        const name = placementPolicyName(gang.id, gang.members.length);
        placementPolicy = await provider.ensurePlacementPolicy({
          name,
          region,
          vmCount: gang.members.length,
          requestId: zoneRequestId(`${gang.id}:${name}`, region),
        });
        policies.set(region, placementPolicy);
      }
      spec = { ...spec, resourcePolicies: [placementPolicy] };
    }
    const made: VmInfo[] = [];
    let skip: ZoneSkip['code'] | undefined;
    for (const m of gang.members) {
      const tried = await tryZone(
        provider,
        { name: m.name, zone, spec, requestId: zoneRequestId(m.requestId, zone) },
        opts,
      );
      if ('skip' in tried) {
        skip = tried.skip;
        break;
      }
      made.push(tried.vm);
    }
    if (!skip) {
      opts.logger?.info(
        { gang: gang.id, zone, size: made.length, skipped: skipped.length },
        'gang walk placed the gang',
      );
      return { zone, vms: made, skipped, ...(placementPolicy ? { placementPolicy } : {}) };
    }
    opts.logger?.info(
      { gang: gang.id, zone, made: made.length, code: skip },
      'gang walk: zone cannot take the whole gang, next zone',
    );
    for (const vm of made) await provider.delete(vm.name, zone);
    if (skip === 'QUOTA_EXCEEDED') quotaSpent.add(region);
    skipped.push({ zone, code: skip });
  }
  throw walkExhausted(`gang ${gang.id}`, skipped);
}

/** `kumo-gang-<id>-<size>`, lowercased and cut to a valid Compute Engine name. */
export function placementPolicyName(gangId: string, size: number): string {
  const id = gangId.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return `kumo-gang-${id}`.slice(0, 54).replace(/-+$/, '') + `-${size}`;
}
