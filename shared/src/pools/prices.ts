/**
 * Default A100 VM prices in USD per hour, by machine type and region: Compute Engine list prices
 * (VM + attached GPUs) as published for us-central1, europe-west4 and asia-northeast1, read on
 * 2024-03-28. Spot prices move as often as daily: treat these as estimates, and set
 * `prices` on a pool to your own (e.g. from your billing export). `local` workers cost nothing.
 */
export const PRICE_TABLE_DATE = '2024-03-28';

interface Price {
  onDemand: number;
  spot: number;
}

const US: Record<string, Price> = {
  'a2-highgpu-1g': { onDemand: 3.67, spot: 1.1 },
  'a2-highgpu-2g': { onDemand: 7.35, spot: 2.2 },
  'a2-highgpu-4g': { onDemand: 14.69, spot: 4.41 },
  'a2-highgpu-8g': { onDemand: 29.39, spot: 8.82 },
  'a2-megagpu-16g': { onDemand: 55.74, spot: 16.72 },
  'a2-ultragpu-1g': { onDemand: 5.07, spot: 1.57 },
  'a2-ultragpu-2g': { onDemand: 10.14, spot: 3.14 },
  'a2-ultragpu-4g': { onDemand: 20.28, spot: 6.28 },
  'a2-ultragpu-8g': { onDemand: 40.55, spot: 12.56 },
};

/** Regional multipliers over us-central1 list prices. */
const REGION_FACTOR: Record<string, number> = {
  'us-central1': 1,
  'us-east1': 1,
  'us-west1': 1,
  'us-west4': 1.05,
  'europe-west4': 1.1,
  'asia-northeast1': 1.29,
  'asia-southeast1': 1.22,
};

export interface PriceOverride {
  spotPerHourUsd?: number;
  onDemandPerHourUsd?: number;
}

/** USD per hour for one VM of the pool, in the zone's region; 0 for `local`. */
export function vmHourlyPrice(machineType: string, region: string, spot: boolean, override?: PriceOverride): number {
  if (spot && override?.spotPerHourUsd !== undefined) return override.spotPerHourUsd;
  if (!spot && override?.onDemandPerHourUsd !== undefined) return override.onDemandPerHourUsd;
  const base = US[machineType];
  if (!base) return 0;
  const factor = REGION_FACTOR[region] ?? 1.1;
  return Math.round((spot ? base.spot : base.onDemand) * factor * 1000) / 1000;
}
