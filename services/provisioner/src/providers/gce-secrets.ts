import { KumoError } from '@kumo/shared';

/**
 * The Secret Manager secrets a worker VM reads at boot (worker-startup.sh). The VM's metadata carries
 * these names, never the values: the metadata server answers every process on the VM, tasks included,
 * and anyone in the project with compute.instances.get.
 *
 * A name is a secret id in the fleet's project (`kumo-redis-url`), a secret's resource name
 * (`projects/p/secrets/s`, latest version) or a version's (`projects/p/secrets/s/versions/3`). `{pool}`
 * stands for the pool's name, so that each pool's VMs read their own pool-scoped worker token.
 */
export interface WorkerSecretNames {
  /** REDIS_URL with its password (KUMO_WORKER_REDIS_URL_SECRET). */
  redisUrl?: string;
  /** KUMO_WORKER_TOKEN, a worker token scoped to the pool (KUMO_WORKER_TOKEN_SECRET). */
  workerToken?: string;
}

/** The metadata keys that name the secrets; worker-startup.sh reads these. */
export const SECRET_METADATA_KEYS = {
  redisUrl: 'kumo-redis-url-secret',
  workerToken: 'kumo-worker-token-secret',
} as const;

const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
const SECRET_RESOURCE = /^projects\/[A-Za-z0-9.:-]+\/secrets\/[A-Za-z0-9_-]{1,255}(?:\/versions\/(?:latest|[0-9]+))?$/;
/** Pool names are [a-z0-9-]: any one of them gives the same verdict; create checks the real name again. */
const SAMPLE_POOL = 'pool';

/** Throws CONFIG_INVALID unless each name is a secret id or resource name (once `{pool}` is filled in). */
export function checkSecretNames(names: WorkerSecretNames): void {
  for (const [field, name] of Object.entries(names) as [keyof WorkerSecretNames, string | undefined][]) {
    if (name === undefined) continue;
    if (!isSecretName(name.replaceAll('{pool}', SAMPLE_POOL))) {
      // The value stays out of the message: a secret put where its name belongs must not reach the logs.
      throw new KumoError(
        'CONFIG_INVALID',
        `${envNameOf(field)} is not a Secret Manager secret id (letters, digits, - and _) or resource name (projects/P/secrets/S)`,
        {
          details: { field },
        },
      );
    }
  }
}

/** The metadata entries naming the pool's secrets: key -> full resource name in `projectId`. */
export function secretMetadata(names: WorkerSecretNames, projectId: string, pool: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of ['redisUrl', 'workerToken'] as const) {
    const name = names[field]?.replaceAll('{pool}', pool);
    if (name === undefined) continue;
    if (!isSecretName(name)) {
      throw new KumoError(
        'CONFIG_INVALID',
        `${envNameOf(field)} for pool ${pool} is not a Secret Manager secret name`,
        { details: { field, pool } },
      );
    }
    out[SECRET_METADATA_KEYS[field]] = name.startsWith('projects/') ? name : `projects/${projectId}/secrets/${name}`;
  }
  return out;
}

function isSecretName(name: string): boolean {
  return SECRET_ID.test(name) || SECRET_RESOURCE.test(name);
}

function envNameOf(field: keyof WorkerSecretNames): string {
  return field === 'redisUrl' ? 'KUMO_WORKER_REDIS_URL_SECRET' : 'KUMO_WORKER_TOKEN_SECRET';
}
