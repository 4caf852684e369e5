/**
 * A VM's life, as the control plane records it. Moved only by the fleet store (scheduler side).
 *   requested -> provisioning -> running -> stopping -> deleted
 *   any live state -> preempted | lost | failed (terminal; the VM is gone or never came)
 */
export type VmState =
  'requested' | 'provisioning' | 'running' | 'stopping' | 'deleted' | 'preempted' | 'lost' | 'failed';
export const LIVE_VM_STATES: readonly VmState[] = ['requested', 'provisioning', 'running', 'stopping'];

export const VM_TRANSITIONS: Record<VmState, readonly VmState[]> = {
  requested: ['provisioning', 'running', 'stopping', 'deleted', 'failed', 'lost'],
  provisioning: ['running', 'stopping', 'deleted', 'failed', 'preempted', 'lost'],
  running: ['stopping', 'deleted', 'preempted', 'lost', 'failed'],
  stopping: ['deleted', 'preempted', 'lost', 'failed'],
  deleted: [],
  preempted: [],
  lost: [],
  failed: [],
};

/** What the provisioner asks a provider to create. Derived from the pool's settings. */
export interface VmSpec {
  pool: string;
  machineType: string;
  gpu: { type: string; count: number };
  spot: boolean;
  /** Ordered: the next zone only after the previous answered with a capacity error. */
  zones: string[];
  /** Task slots the worker on this VM runs at once. */
  slots: number;
  labels: Record<string, string>;
  /** Boot image (GCE: image family or URL). */
  image?: string;
  /** Worker settings baked into the VM (startup script metadata). */
  worker: { controlUrl?: string; redisUrl?: string; extraEnv?: Record<string, string> };
  /** The subnetwork of each region (pool `subnetworks`); the provider's own one where absent. */
  subnetworks?: Record<string, string>;
  /** `compact`: a gang's VMs get one compact placement resource policy (see gang-walker.ts). */
  placement?: 'compact';
  /** Resource policy URLs the instance carries (the gang walker sets the placement policy here). */
  resourcePolicies?: string[];
  /** A specific reservation to consume (pool `reservation`). */
  reservation?: string;
  /** Dynamic Workload Scheduler flex-start, with the VM's longest life. */
  flexStart?: { maxRunDurationSeconds: number };
  /** The pool's own prices, so each VM is priced in the region it lands in. */
  prices?: { spotPerHourUsd?: number; onDemandPerHourUsd?: number };
}

/** What a provider reports about one instance it holds. */
export interface VmInfo {
  name: string;
  pool: string;
  zone: string;
  status: 'provisioning' | 'running' | 'stopping' | 'terminated';
  /** GCE: the instance was preempted (spot) or stopped by the platform. */
  preempted: boolean;
  createdAt?: number;
}
