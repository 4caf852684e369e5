import type { InstancesClient } from '@google-cloud/compute';
import type { Logger } from '@kumo/shared';
import type { WorkerSecretNames } from './gce-secrets';

/** The official client's own options (endpoint, auth), as the provider passes them on. */
export type ClientOptions = NonNullable<ConstructorParameters<typeof InstancesClient>[0]>;

/** What the Compute Engine provider is built from (the provisioner's parsed environment). */
export interface GceProviderOptions {
  /** The project that holds the fleet (GOOGLE_CLOUD_PROJECT). */
  projectId: string;
  /**
   * KUMO_COMPUTE_ENDPOINT: an `http://host:port` that replaces compute.googleapis.com (tests, emulators).
   * Default: the real API.
   */
  endpoint?: string;
  /**
   * The google-auth-library client to call with. Default: application default credentials; with
   * `endpoint`, an unauthenticated client (local servers take no token).
   */
  authClient?: ClientOptions['authClient'];
  /** The workers' service account. Default: the project's default compute service account. */
  serviceAccountEmail?: string;
  /** Network URL or name (`global/networks/kumo`). Default: the project's default network. */
  network?: string;
  /** Subnetwork URL (`regions/us-central1/subnetworks/kumo-workers`). Default: none (auto-mode network). */
  subnetwork?: string;
  /** Give workers an external address. Default false: they go out through Cloud NAT (infra/). */
  externalIp?: boolean;
  /** Limit for one API call (insert, get, delete, list). Default 30 s. */
  callTimeoutMs?: number;
  /** Limit for an operation to reach DONE after its call answered. Default 10 min. */
  operationTimeoutMs?: number;
  /** Default: a logger of its own. */
  logger?: Logger;
  /** The VM startup script (see startup-script.ts). Required. */
  startupScript: string;
  /** `gs://bucket/path/kumo-worker.tgz`: the worker bundle the startup script fetches. Default: none. */
  workerBundleUri?: string;
  /** The label that marks kumo's instances (`<key>=worker`, `<key>-pool=<pool>`). Default 'kumo'. */
  labelKey?: string;
  /**
   * Secret Manager secrets the VMs read their Redis URL and worker token from at boot (gce-secrets.ts);
   * their metadata names the secrets only. Default: none (a VM whose metadata names neither stops at boot).
   */
  workerSecrets?: WorkerSecretNames;
}

/** GCE's wait returns by itself within about two minutes; a call that takes longer is stuck. */
