import type { VmInfo, VmSpec } from './vm';

export interface CreateVmRequest {
  name: string;
  zone: string;
  spec: VmSpec;
  /** A UUID; the same request repeated carries the same id, so the cloud creates at most one VM. */
  requestId: string;
}

/** A compact placement policy for one gang in one region (Compute Engine resourcePolicies.insert). */
export interface PlacementPolicyRequest {
  /** Predictable per gang, size and region, so a repeat finds the policy it made. */
  name: string;
  region: string;
  /** Exactly this many VMs must be created with it (groupPlacementPolicy.vmCount). */
  vmCount: number;
  requestId: string;
}

/**
 * The fleet seam: Compute Engine, local worker processes, or the simulated fleet. Errors are KumoErrors:
 * ZONE_RESOURCE_POOL_EXHAUSTED (try the next zone), QUOTA_EXCEEDED (stop for the region), PROVIDER_UNAVAILABLE
 * (retryable only where the create surely did not happen), PROVIDER_REJECTED (do not retry).
 */
export interface FleetProvider {
  readonly kind: 'local' | 'gce' | 'sim';
  /** Creates the VM and waits until the provider accepted it (the operation is DONE without error). */
  create(req: CreateVmRequest): Promise<VmInfo>;
  /** Deletes it; deleting one that is already gone succeeds. */
  delete(name: string, zone: string): Promise<void>;
  /**
   * Makes (or finds) the compact placement policy and returns the URL instances name in
   * `resourcePolicies`. Providers without placement (local, sim) leave it out.
   */
  ensurePlacementPolicy?(req: PlacementPolicyRequest): Promise<string>;
  /** Every instance this kumo holds (by label), whatever its state. */
  list(): Promise<VmInfo[]>;
  close(): Promise<void>;
}
