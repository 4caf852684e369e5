import type { protos } from '@google-cloud/compute';
import { KumoError, regionOf, type VmInfo, type VmSpec } from '@kumo/shared';
import { secretMetadata, type WorkerSecretNames } from './gce-secrets';

type Instance = protos.google.cloud.compute.v1.IInstance;

/** Deep Learning VM image: CUDA and the NVIDIA driver installer (`install-nvidia-driver` metadata). */
export const DEFAULT_WORKER_IMAGE =
  'projects/deeplearning-platform-release/global/images/family/common-cu123-debian-11-py310';
export const BOOT_DISK_GB = 200;
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** Network tag the firewall rules in infra/ select workers by. */
export const WORKER_TAG = 'kumo-worker';

/**
 * A2, A3 and G2 machine types come with a fixed set of GPUs: the accelerator in the request must be
 * exactly that one, or the insert fails late (after minutes in a queue) instead of at once.
 */
const FIXED_GPUS: Record<string, { type: string; count: number }> = {
  'a2-highgpu-1g': { type: 'nvidia-tesla-a100', count: 1 },
  'a2-highgpu-2g': { type: 'nvidia-tesla-a100', count: 2 },
  'a2-highgpu-4g': { type: 'nvidia-tesla-a100', count: 4 },
  'a2-highgpu-8g': { type: 'nvidia-tesla-a100', count: 8 },
  'a2-megagpu-16g': { type: 'nvidia-tesla-a100', count: 16 },
  'a2-ultragpu-1g': { type: 'nvidia-a100-80gb', count: 1 },
  'a2-ultragpu-2g': { type: 'nvidia-a100-80gb', count: 2 },
  'a2-ultragpu-4g': { type: 'nvidia-a100-80gb', count: 4 },
  'a2-ultragpu-8g': { type: 'nvidia-a100-80gb', count: 8 },
  'a3-highgpu-1g': { type: 'nvidia-h100-80gb', count: 1 },
  'a3-highgpu-2g': { type: 'nvidia-h100-80gb', count: 2 },
  'a3-highgpu-4g': { type: 'nvidia-h100-80gb', count: 4 },
  'a3-highgpu-8g': { type: 'nvidia-h100-80gb', count: 8 },
  'a3-megagpu-8g': { type: 'nvidia-h100-mega-80gb', count: 8 },
  'g2-standard-4': { type: 'nvidia-l4', count: 1 },
  'g2-standard-8': { type: 'nvidia-l4', count: 1 },
  'g2-standard-12': { type: 'nvidia-l4', count: 1 },
  'g2-standard-16': { type: 'nvidia-l4', count: 1 },
  'g2-standard-24': { type: 'nvidia-l4', count: 2 },
  'g2-standard-32': { type: 'nvidia-l4', count: 1 },
  'g2-standard-48': { type: 'nvidia-l4', count: 4 },
  'g2-standard-96': { type: 'nvidia-l4', count: 8 },
};
const A100_TYPES = new Set(['nvidia-tesla-a100', 'nvidia-a100-80gb']);

/** Throws PROVIDER_REJECTED when the machine type and the GPU do not belong together. */
export function checkMachineAndGpu(machineType: string, gpu: { type: string; count: number }): void {
  const reject = (why: string): never => {
    throw new KumoError('PROVIDER_REJECTED', `${machineType} with ${gpu.count} x ${gpu.type}: ${why}`, {
      details: { machineType, gpu },
    });
  };
  if (!/^[a-z][a-z0-9-]*$/.test(machineType) || machineType === 'local') reject('not a Compute Engine machine type');
  const fixed = FIXED_GPUS[machineType];
  if (fixed) {
    if (gpu.type !== fixed.type || gpu.count !== fixed.count)
      reject(`this machine type carries ${fixed.count} x ${fixed.type}`);
    return;
  }
  if (/^(a2|a3|g2)-/.test(machineType)) reject('unknown GPU machine type');
  if (A100_TYPES.has(gpu.type) && gpu.count > 0) reject('A100s come only with A2 machine types');
}

export interface InstanceSettings {
  startupScript: string;
  serviceAccountEmail?: string;
  network?: string;
  subnetwork?: string;
  externalIp: boolean;
  labelKey: string;
  workerBundleUri?: string;
  /** The project the secrets' short names belong to. */
  projectId: string;
  /** Secret Manager secrets the VM reads its Redis URL and worker token from. */
  workerSecrets: WorkerSecretNames;
}

/** Variables the VM gets from Secret Manager only; never from metadata. */
const SECRET_ENV = new Set(['REDIS_URL', 'KUMO_WORKER_TOKEN', 'KUMO_ADMIN_TOKEN', 'KUMO_TOKEN_SIGNING_KEY']);

/** The Compute Engine instance body for one worker VM. */
export function buildInstance(name: string, zone: string, spec: VmSpec, s: InstanceSettings): Instance {
  checkMachineAndGpu(spec.machineType, spec.gpu);
  // Every process on the VM can read the instance's metadata (tasks too, until the agent cuts them off),
  // and so can anyone in the project with compute.instances.get: a secret there is a secret no more.
  // Refused rather than dropped, so that a control plane still configured the old way fails loudly
  // instead of starting VMs whose workers cannot connect.
  if (spec.worker.redisUrl) {
    throw new KumoError(
      'CONFIG_INVALID',
      'a Redis URL for worker VMs would be readable in their instance metadata: store it in Secret Manager and name the secret with KUMO_WORKER_REDIS_URL_SECRET (drop KUMO_WORKER_REDIS_URL)',
      { details: { pool: spec.pool } },
    );
  }
  const metadata: Record<string, string> = {
    'startup-script': s.startupScript,
    'kumo-pool': spec.pool,
    'kumo-slots': String(spec.slots),
    // Deep Learning VM images install the NVIDIA driver on first boot when this is set.
    'install-nvidia-driver': 'True',
  };
  if (spec.worker.controlUrl) metadata['kumo-control-url'] = spec.worker.controlUrl;
  Object.assign(metadata, secretMetadata(s.workerSecrets, s.projectId, spec.pool));
  if (s.workerBundleUri) metadata['kumo-worker-bundle'] = s.workerBundleUri;
  const extraEnv = envLines(spec.worker.extraEnv ?? {});
  if (extraEnv) metadata['kumo-extra-env'] = extraEnv;

  const scheduling = schedulingOf(spec);
  const subnetwork = spec.subnetworks?.[regionOf(zone)] ?? s.subnetwork;

  return {
    name,
    machineType: `zones/${zone}/machineTypes/${spec.machineType}`,
    // kumo's own labels last: a pool label must not be able to hide a VM from list().
    labels: { ...spec.labels, [s.labelKey]: 'worker', [`${s.labelKey}-pool`]: spec.pool },
    tags: { items: [WORKER_TAG] },
    guestAccelerators:
      spec.gpu.count > 0
        ? [{ acceleratorType: `zones/${zone}/acceleratorTypes/${spec.gpu.type}`, acceleratorCount: spec.gpu.count }]
        : [],
    scheduling,
    disks: [
      {
        boot: true,
        autoDelete: true,
        type: 'PERSISTENT',
        initializeParams: {
          sourceImage: spec.image ?? DEFAULT_WORKER_IMAGE,
          // int64 travels as a string in the REST mapping.
          diskSizeGb: String(BOOT_DISK_GB),
          diskType: `zones/${zone}/diskTypes/pd-balanced`,
        },
      },
    ],
    networkInterfaces: [
      {
        ...(s.network ? { network: s.network } : {}),
        ...(subnetwork ? { subnetwork } : {}),
        // Without an external address the worker reaches the internet through Cloud NAT (infra/).
        accessConfigs: s.externalIp ? [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] : [],
      },
    ],
    serviceAccounts: [{ email: s.serviceAccountEmail ?? 'default', scopes: [CLOUD_PLATFORM_SCOPE] }],
    metadata: { items: Object.entries(metadata).map(([key, value]) => ({ key, value })) },
    ...(spec.resourcePolicies?.length ? { resourcePolicies: spec.resourcePolicies } : {}),
    ...reservationOf(spec),
  };
}

type Scheduling = protos.google.cloud.compute.v1.IScheduling;

/** How the VM is provisioned: spot, flex-start (Dynamic Workload Scheduler) or standard. */
function schedulingOf(spec: VmSpec): Scheduling {
  if (spec.flexStart) {
    // Flex-start: Compute Engine waits for capacity, then runs the VM at most maxRunDuration and
    // deletes it (int64 seconds travel as a string).
    return {
      provisioningModel: 'FLEX_START',
      maxRunDuration: { seconds: String(spec.flexStart.maxRunDurationSeconds) },
      instanceTerminationAction: 'DELETE',
      onHostMaintenance: 'TERMINATE',
      automaticRestart: false,
    };
  }
  return spec.spot
    ? // Spot: deleted (not stopped) when reclaimed, so a preempted VM costs nothing and its name frees up.
      {
        provisioningModel: 'SPOT',
        instanceTerminationAction: 'DELETE',
        onHostMaintenance: 'TERMINATE',
        automaticRestart: false,
      }
    : // GPU VMs cannot live-migrate: they stop for maintenance and come back by themselves.
      { provisioningModel: 'STANDARD', onHostMaintenance: 'TERMINATE', automaticRestart: true };
}

/** A specific reservation's affinity; flex-start VMs consume none (Compute Engine requires it said). */
function reservationOf(spec: VmSpec): Pick<Instance, 'reservationAffinity'> {
  if (spec.reservation) {
    return {
      reservationAffinity: {
        consumeReservationType: 'SPECIFIC_RESERVATION',
        key: 'compute.googleapis.com/reservation-name',
        values: [spec.reservation],
      },
    };
  }
  return spec.flexStart ? { reservationAffinity: { consumeReservationType: 'NO_RESERVATION' } } : {};
}

/**
 * Instance status -> VmInfo. `preempted`: a spot instance the platform stopped. kumo never stops a VM (it
 * only deletes), so a spot VM seen TERMINATED/STOPPED was reclaimed. With instanceTerminationAction DELETE
 * it usually vanishes instead: the caller treats a VM that disappears without a delete of its own as lost.
 */
export function toVmInfo(inst: Instance, labelKey: string, fallbackZone?: string): VmInfo {
  const zone = lastSegment(inst.zone) ?? fallbackZone ?? '';
  const status = mapStatus(inst.status ?? '');
  const spot = inst.scheduling?.provisioningModel === 'SPOT' || inst.scheduling?.preemptible === true;
  const created = inst.creationTimestamp ? Date.parse(inst.creationTimestamp) : NaN;
  return {
    name: inst.name ?? '',
    pool: inst.labels?.[`${labelKey}-pool`] ?? '',
    zone,
    status,
    preempted: spot && status === 'terminated',
    ...(Number.isFinite(created) ? { createdAt: created } : {}),
  };
}

function mapStatus(status: string): VmInfo['status'] {
  switch (status) {
    case 'RUNNING':
      return 'running';
    case 'STOPPING':
    case 'SUSPENDING':
      return 'stopping';
    case 'TERMINATED':
    case 'STOPPED':
    case 'SUSPENDED':
      return 'terminated';
    // PROVISIONING, STAGING, PENDING, REPAIRING and anything new: not yet (or not again) serving.
    default:
      return 'provisioning';
  }
}

function lastSegment(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  const parts = url.split('/');
  return parts[parts.length - 1] || undefined;
}

/** KEY=VALUE lines for the worker's env file; refuses what would break the file or inject lines. */
function envLines(env: Record<string, string>): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || /[\r\n\0]/.test(v)) {
      throw new KumoError('PROVIDER_REJECTED', `worker environment variable ${k} cannot go into the VM's env file`, {
        details: { key: k },
      });
    }
    if (SECRET_ENV.has(k)) {
      throw new KumoError(
        'CONFIG_INVALID',
        `worker environment variable ${k} is a secret: it reaches VMs through Secret Manager, not metadata`,
        {
          details: { key: k },
        },
      );
    }
    lines.push(`${k}=${v}`);
  }
  return lines.join('\n');
}
