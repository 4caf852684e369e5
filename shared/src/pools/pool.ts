import { z } from 'zod';
import { poolNameSchema } from '../catalog/common';
import { listHourlyPrice, vmHourlyPrice } from './prices';

/** A worker pool and its autoscaling settings (`PUT /v1/pools/:name`). */
export const poolSettingsSchema = z
  .strictObject({
    /** Compute Engine machine type, e.g. a2-highgpu-1g; `local` for worker processes on this machine. */
    machineType: z.string().min(1).max(64).default('a2-highgpu-1g'),
    gpu: z
      .strictObject({ type: z.string().min(1).max(64), count: z.int().min(0).max(16) })
      .default({ type: 'nvidia-tesla-a100', count: 1 }),
    spot: z.boolean().default(true),
    /**
     * Tried in this order; the next only after the previous answered with a capacity error. Zones may
     * span regions: a region is left for the next one after every zone of it ran out (see zone-walker.ts).
     */
    zones: z.array(z.string().min(1).max(64)).min(1).max(32),
    /**
     * The subnetwork each region's VMs join (`regions/<region>/subnetworks/<name>` or a full URL), by
     * region. When set, every region of `zones` needs one. Default: the provisioner's KUMO_SUBNETWORK.
     */
    subnetworks: z.record(z.string().min(1).max(64), z.string().min(1).max(512)).optional(),
    /**
     * `compact`: a gang's VMs share a compact placement resource policy (groupPlacementPolicy
     * COLLOCATED), so its ranks sit close on the network. Default: no placement policy.
     */
    placement: z.enum(['compact']).optional(),
    /** A specific Compute Engine reservation the VMs consume (its name, or `projects/<p>/reservations/<name>` when shared). */
    reservation: z.string().min(1).max(256).optional(),
    /**
     * `flex-start`: Dynamic Workload Scheduler's flex-start model (provisioningModel FLEX_START), which
     * waits for capacity and runs each VM at most `maxRunDurationSeconds`. Not with `spot`.
     */
    provisioning: z.enum(['flex-start']).optional(),
    /** A flex-start VM's longest life (Compute Engine deletes it then); required with `provisioning`. */
    maxRunDurationSeconds: z
      .int()
      .min(60)
      .max(7 * 86_400)
      .optional(),
    min: z.int().min(0).max(10_000).default(0),
    max: z.int().min(0).max(10_000),
    /** Tasks one VM (worker) runs at once. */
    slotsPerVm: z.int().min(1).max(1024).default(1),
    /** An idle VM is deleted after this long (never one with a running task). */
    idleTimeoutSeconds: z.int().min(0).max(86_400).default(300),
    /** Most VMs requested per autoscaler tick. */
    scaleUpBatch: z.int().min(1).max(1000).default(8),
    /** Most VMs deleted per autoscaler tick. */
    scaleDownBatch: z.int().min(1).max(1000).default(8),
    /** Boot image (GCE image family URL); the Deep Learning VM family by default. */
    image: z.string().min(1).max(512).optional(),
    labels: z.record(z.string().min(1).max(63), z.string().max(63)).default({}),
    /** Your own prices; the dated default table (pools/prices.ts) otherwise. */
    prices: z
      .strictObject({
        spotPerHourUsd: z.number().min(0).max(10_000).optional(),
        onDemandPerHourUsd: z.number().min(0).max(10_000).optional(),
      })
      .optional(),
    /** When every zone is out of spot capacity, create standard (on-demand) VMs instead, for a while. */
    fallbackToStandard: z.boolean().default(false),
    /** Never run VMs costing more than this per hour in all (the autoscaler caps the pool's size). */
    maxHourlyUsd: z.number().min(0).max(1_000_000).optional(),
    /**
     * A job of higher priority takes slots from lower ones: their running tasks are handed back (no
     * attempt used) and its tasks go to the front of the queue. Off by default: a task stopped loses its work.
     */
    preemption: z.boolean().optional(),
  })
  .refine((p) => p.min <= p.max, { message: 'min must not exceed max', path: ['min'] })
  .superRefine((p, ctx) => {
    // A pool without a price would cost $0 to every budget: refused instead.
    for (const spot of p.fallbackToStandard ? [p.spot, false] : [p.spot]) {
      if (listHourlyPrice(p.machineType, 'us-central1', spot, p.prices) === undefined) {
        const which = spot ? 'spotPerHourUsd' : 'onDemandPerHourUsd';
        ctx.addIssue({
          code: 'custom',
          path: ['machineType'],
          message: `no list price for ${p.machineType}: set prices.${which} on the pool`,
        });
        break;
      }
    }
    if (p.subnetworks) {
      for (const region of new Set(p.zones.map(regionOf))) {
        if (!p.subnetworks[region])
          ctx.addIssue({
            code: 'custom',
            path: ['subnetworks', region],
            message: `zones in ${region} need a subnetwork of that region`,
          });
      }
    }
    if (p.provisioning === 'flex-start') {
      if (p.spot)
        ctx.addIssue({ code: 'custom', path: ['spot'], message: 'flex-start VMs are not spot VMs: set spot to false' });
      if (p.maxRunDurationSeconds === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['maxRunDurationSeconds'],
          message: 'flex-start needs maxRunDurationSeconds',
        });
      if (p.reservation)
        ctx.addIssue({ code: 'custom', path: ['reservation'], message: 'flex-start VMs consume no reservation' });
    } else if (p.maxRunDurationSeconds !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxRunDurationSeconds'],
        message: 'maxRunDurationSeconds goes with provisioning: flex-start',
      });
    }
  });

export type PoolSettings = z.infer<typeof poolSettingsSchema>;
export type PoolSettingsInput = z.input<typeof poolSettingsSchema>;

export interface Pool extends PoolSettings {
  name: string;
  updatedAt: number;
}

export { poolNameSchema };

/**
 * USD per hour of one of the pool's VMs where it is dearest among the pool's regions: what a budget
 * plans with before it knows where a VM lands (each VM is billed at its own region's price).
 * `cheapest`: where it is cheapest (a best case, as a simulation's ideal cost).
 */
export function poolHourlyPrice(
  pool: PoolSettings,
  spot: boolean = pool.spot,
  where: 'dearest' | 'cheapest' = 'dearest',
): number {
  const prices = [...new Set(pool.zones.map(regionOf))].map((region) =>
    vmHourlyPrice(pool.machineType, region, spot, pool.prices),
  );
  return where === 'dearest' ? Math.max(0, ...prices) : Math.min(...prices);
}

/** The pool `npm start` creates when it does not exist: worker processes on this machine. */
export const LOCAL_POOL_DEFAULTS: PoolSettingsInput = {
  machineType: 'local',
  gpu: { type: 'none', count: 0 },
  spot: false,
  zones: ['local'],
  min: 0,
  max: 2,
  slotsPerVm: 32,
  idleTimeoutSeconds: 60,
};

/** Region of a zone: `us-central1-a` -> `us-central1`. */
export function regionOf(zone: string): string {
  const i = zone.lastIndexOf('-');
  return i > 0 ? zone.slice(0, i) : zone;
}
