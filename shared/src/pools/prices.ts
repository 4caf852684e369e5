import { CPU_FAMILY_PRICES, MACHINE_PRICES, MEMORY_PER_VCPU, REGION_FACTORS, type MachinePrice } from './price-table';

export { PRICE_TABLE_DATE, PRICE_TABLE_SOURCE } from './price-table';

export interface PriceOverride {
  spotPerHourUsd?: number;
  onDemandPerHourUsd?: number;
}

/**
 * A region missing from the table is priced at the dearest listed region's factor: an estimate that
 * errs towards spending less, never a free VM.
 */
const UNLISTED_REGION_FACTOR = Math.max(...Object.values(REGION_FACTORS));

/** vCPUs and memory of a predefined CPU machine type (`n2-standard-8`), or undefined. */
export function machineShape(machineType: string): { family: string; vcpus: number; memoryGb: number } | undefined {
  const m = /^([a-z0-9]+)-([a-z]+)-(\d+)$/.exec(machineType);
  if (!m) return undefined;
  const [, family, shape, count] = m as unknown as [string, string, string, string];
  const perVcpu = MEMORY_PER_VCPU[family]?.[shape];
  if (perVcpu === undefined || !CPU_FAMILY_PRICES[family]) return undefined;
  const vcpus = Number(count);
  return { family, vcpus, memoryGb: vcpus * perVcpu };
}

/** The us-central1 list price of a machine type, or undefined when the table has none. */
function basePrice(machineType: string): MachinePrice | undefined {
  const whole = MACHINE_PRICES[machineType];
  if (whole) return whole;
  const shape = machineShape(machineType);
  if (!shape) return undefined;
  const c = CPU_FAMILY_PRICES[shape.family]!;
  return {
    onDemand: shape.vcpus * c.vcpu.onDemand + shape.memoryGb * c.memoryGb.onDemand,
    spot: shape.vcpus * c.vcpu.spot + shape.memoryGb * c.memoryGb.spot,
  };
}

/** Whether the default table prices this machine type (`local` workers cost nothing and need none). */
export function hasListPrice(machineType: string): boolean {
  return machineType === 'local' || basePrice(machineType) !== undefined;
}

/**
 * USD per hour of one VM in the region: the pool's own `prices` when set, else the dated table.
 * Undefined when neither knows the machine type (the pool schema refuses such a pool, so a VM is
 * never billed at $0 by mistake); 0 for `local`.
 */
export function listHourlyPrice(
  machineType: string,
  region: string,
  spot: boolean,
  override?: PriceOverride,
): number | undefined {
  if (spot && override?.spotPerHourUsd !== undefined) return override.spotPerHourUsd;
  if (!spot && override?.onDemandPerHourUsd !== undefined) return override.onDemandPerHourUsd;
  if (machineType === 'local') return 0;
  const base = basePrice(machineType);
  if (!base) return undefined;
  const factor = REGION_FACTORS[region] ?? UNLISTED_REGION_FACTOR;
  return Math.round((spot ? base.spot : base.onDemand) * factor * 1000) / 1000;
}

/** As listHourlyPrice, for a pool the schema accepted (so a price exists); 0 only for `local`. */
export function vmHourlyPrice(machineType: string, region: string, spot: boolean, override?: PriceOverride): number {
  return listHourlyPrice(machineType, region, spot, override) ?? 0;
}
