import type { VmSpec, VmState } from './vm';

export type ProvisionCommand =
  | { type: 'create'; pool: string; name: string; requestId: string; spec: VmSpec }
  | { type: 'delete'; pool: string; name: string; zone?: string; reason: string }
  /** A gang's VMs, all in one zone or none (gang-walker.ts); `gang` is the training job's id. */
  | { type: 'create-gang'; pool: string; gang: string; members: GangVm[]; spec: VmSpec; zones?: string[] };

/** One VM of a gang: its predictable name and its own requestId. */
export interface GangVm {
  name: string;
  requestId: string;
}

export interface FleetEvent {
  type: 'vm';
  name: string;
  pool: string;
  state: VmState;
  zone?: string;
  /** Why, in words a user reads on the pool ("waiting for capacity in us-central1-a"). */
  reason?: string;
  error?: { code: string; message: string };
  /** `running`: USD per hour of this VM in the region it landed in. */
  priceUsdPerHour?: number;
  at: number;
}
