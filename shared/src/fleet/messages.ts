import type { VmSpec, VmState } from './vm';

export type ProvisionCommand =
  | { type: 'create'; pool: string; name: string; requestId: string; spec: VmSpec }
  | { type: 'delete'; pool: string; name: string; zone?: string; reason: string };

export interface FleetEvent {
  type: 'vm';
  name: string;
  pool: string;
  state: VmState;
  zone?: string;
  /** Why, in words a user reads on the pool ("waiting for capacity in us-central1-a"). */
  reason?: string;
  error?: { code: string; message: string };
  at: number;
}
