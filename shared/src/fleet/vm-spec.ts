import type { Pool } from '../pools/pool';
import type { VmSpec } from './vm';

/** What the provisioner is asked to create for one of the pool's VMs (spot, or standard as a fallback). */
export function vmSpecOf(pool: Pool, spot: boolean, worker: VmSpec['worker']): VmSpec {
  return {
    pool: pool.name,
    machineType: pool.machineType,
    gpu: pool.gpu,
    spot,
    zones: pool.zones,
    slots: pool.slotsPerVm,
    labels: pool.labels,
    ...(pool.image ? { image: pool.image } : {}),
    worker,
    ...(pool.subnetworks ? { subnetworks: pool.subnetworks } : {}),
    ...(pool.placement ? { placement: pool.placement } : {}),
    ...(pool.reservation ? { reservation: pool.reservation } : {}),
    ...(pool.provisioning === 'flex-start' && pool.maxRunDurationSeconds !== undefined
      ? { flexStart: { maxRunDurationSeconds: pool.maxRunDurationSeconds } }
      : {}),
    ...(pool.prices ? { prices: pool.prices } : {}),
  };
}
