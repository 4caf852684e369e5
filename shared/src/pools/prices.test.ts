import { describe, expect, it } from 'vitest';
import { poolHourlyPrice, poolSettingsSchema } from './pool';
import { PRICE_TABLE_SOURCE } from './price-table';
import { listHourlyPrice, machineShape } from './prices';

const REGIONS = ['us-central1', 'us-east1', 'us-west1', 'europe-west4', 'asia-northeast1'];
/** One machine type of each family the table covers. */
const FAMILIES: Record<string, string> = {
  A2: 'a2-highgpu-1g',
  A3: 'a3-highgpu-8g',
  G2: 'g2-standard-8',
  N2: 'n2-standard-8',
  N2D: 'n2d-highmem-16',
  C2D: 'c2d-highcpu-32',
  C3: 'c3-standard-22',
  E2: 'e2-standard-4',
};

describe('prices', () => {
  it('every family has a spot and a standard price in every listed region, spot the cheaper', () => {
    for (const [family, machine] of Object.entries(FAMILIES)) {
      for (const region of REGIONS) {
        const spot = listHourlyPrice(machine, region, true);
        const standard = listHourlyPrice(machine, region, false);
        expect(spot, `${family} ${region} spot`).toBeGreaterThan(0);
        expect(standard, `${family} ${region} standard`).toBeGreaterThan(spot!);
      }
    }
    expect(PRICE_TABLE_SOURCE).toMatch(/Compute Engine pricing/);
  });

  it('CPU types are priced by their vCPUs and memory; the A2 list stays as it was', () => {
    expect(machineShape('n2-standard-8')).toEqual({ family: 'n2', vcpus: 8, memoryGb: 32 });
    expect(machineShape('c2d-highcpu-32')).toEqual({ family: 'c2d', vcpus: 32, memoryGb: 64 });
    // n2-standard-8 at 8 x $0.031611 + 32 x $0.004237 = $0.388.
    expect(listHourlyPrice('n2-standard-8', 'us-central1', false)).toBe(0.388);
    expect(listHourlyPrice('n2-standard-16', 'us-central1', false)).toBeCloseTo(2 * 0.388, 2);
    expect(listHourlyPrice('a2-highgpu-1g', 'us-central1', false)).toBe(3.67);
    expect(listHourlyPrice('a2-highgpu-1g', 'us-central1', true)).toBe(1.1);
    expect(listHourlyPrice('a2-highgpu-1g', 'asia-northeast1', true)).toBe(1.419);
    expect(listHourlyPrice('n1-standard-8', 'us-central1', true)).toBeUndefined();
    expect(listHourlyPrice('local', 'local', false)).toBe(0);
  });

  it('a pool whose machine type has no price and no prices is refused at machineType; with prices it is taken', () => {
    const base = { zones: ['us-central1-a'], max: 4, gpu: { type: 'none', count: 0 } };
    const refused = poolSettingsSchema.safeParse({ ...base, machineType: 'n1-standard-8' });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((i) => i.path)).toEqual([['machineType']]);
    expect(
      poolSettingsSchema.safeParse({ ...base, machineType: 'n1-standard-8', prices: { spotPerHourUsd: 0.1 } }).success,
    ).toBe(true);
    // Falling back to standard needs a standard price too.
    const noStandard = poolSettingsSchema.safeParse({
      ...base,
      machineType: 'n1-standard-8',
      prices: { spotPerHourUsd: 0.1 },
      fallbackToStandard: true,
    });
    expect(noStandard.error?.issues.map((i) => i.path)).toEqual([['machineType']]);
  });

  it('a pool across regions plans with its dearest region', () => {
    const pool = poolSettingsSchema.parse({
      zones: ['us-central1-a', 'asia-northeast1-a'],
      max: 4,
      subnetworks: { 'us-central1': 's1', 'asia-northeast1': 's2' },
    });
    expect(poolHourlyPrice(pool)).toBe(listHourlyPrice('a2-highgpu-1g', 'asia-northeast1', true));
    const missing = poolSettingsSchema.safeParse({
      zones: ['us-central1-a', 'asia-northeast1-a'],
      max: 4,
      subnetworks: { 'us-central1': 's1' },
    });
    expect(missing.error?.issues.map((i) => i.path)).toEqual([['subnetworks', 'asia-northeast1']]);
  });

  it('flex-start is standard, bounded and without a reservation', () => {
    const flex = (extra: object) =>
      poolSettingsSchema.safeParse({
        zones: ['us-central1-a'],
        max: 4,
        spot: false,
        provisioning: 'flex-start',
        ...extra,
      });
    expect(flex({ maxRunDurationSeconds: 3600 }).success).toBe(true);
    expect(flex({}).error?.issues.map((i) => i.path)).toEqual([['maxRunDurationSeconds']]);
    expect(flex({ maxRunDurationSeconds: 3600, spot: true }).error?.issues.map((i) => i.path)).toEqual([['spot']]);
  });
});
