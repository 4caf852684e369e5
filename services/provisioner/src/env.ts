import { z } from 'zod';
import { KumoError } from '@kumo/shared';

const schema = z.object({
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  KUMO_PREFIX: z.string().min(1).default('kumo'),
  KUMO_BUS: z.enum(['redis', 'pubsub']).default('redis'),
  KUMO_PROVIDER: z.enum(['local', 'gce', 'sim']).default('local'),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  KUMO_COMPUTE_ENDPOINT: z.url().optional(),
  KUMO_WORKER_SERVICE_ACCOUNT: z.string().optional(),
  KUMO_WORKER_BUNDLE_URI: z.string().optional(),
  KUMO_NETWORK: z.string().optional(),
  KUMO_SUBNETWORK: z.string().optional(),
  /**
   * Secret Manager secrets worker VMs read at boot: REDIS_URL (with its password) and the worker token
   * (`{pool}` stands for the pool's name). Their metadata names the secrets, never the values.
   */
  KUMO_WORKER_REDIS_URL_SECRET: z.string().min(1).optional(),
  KUMO_WORKER_TOKEN_SECRET: z.string().min(1).optional(),
  KUMO_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  LOG_LEVEL: z.string().default('info'),
});
export type ProvisionerEnv = z.infer<typeof schema>;

export function parseProvisionerEnv(env: NodeJS.ProcessEnv): ProvisionerEnv {
  const r = schema.safeParse(env);
  if (!r.success)
    throw new KumoError(
      'CONFIG_INVALID',
      `provisioner configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  if (r.data.KUMO_PROVIDER === 'gce' && !r.data.GOOGLE_CLOUD_PROJECT)
    throw new KumoError('CONFIG_INVALID', 'KUMO_PROVIDER=gce needs GOOGLE_CLOUD_PROJECT');
  return r.data;
}
