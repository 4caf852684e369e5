import { z } from 'zod';
import { limitsEnvShape, listingEnvShape, taskLogsEnvShape } from '@kumo/api';
import { budgetTimeZoneEnvShape, KumoError, tokenSigningEnvShape } from '@kumo/shared';

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  REDIS_URL: z.string().min(1).optional(),
  KUMO_ADMIN_TOKEN: z.string().min(16, 'KUMO_ADMIN_TOKEN must be at least 16 characters').optional(),
  KUMO_DATA_DIR: z.string().min(1).optional(),
  KUMO_PREFIX: z.string().min(1).default('kumo'),
  KUMO_BUS: z.enum(['redis', 'pubsub']).default('redis'),
  KUMO_PROVIDER: z.enum(['local', 'gce']).default('local'),
  /** With KUMO_PROVIDER=gce: the URL the VMs' workers reach this API at (HTTPS log uploads, the control link). */
  KUMO_CONTROL_URL: z.string().optional(),
  /** The `local` pool's size when first created: worker processes and tasks each runs at once. */
  KUMO_LOCAL_WORKERS: z.coerce.number().int().min(0).max(64).optional(),
  KUMO_LOCAL_SLOTS: z.coerce.number().int().min(1).max(1024).optional(),
  /** `1`: where this host cannot isolate tasks (not root, no bubblewrap), run them unisolated (unsafe; the workers read it too). */
  KUMO_UNISOLATED_TASKS: z.enum(['0', '1']).default('0'),
  /**
   * How long a local worker's task lock (BullMQ's) lives without renewal: a worker silent this long loses
   * its tasks back to the queue. Given to the workers as theirs, and to the scheduler, whose lost-task
   * check must wait at least this long.
   */
  KUMO_TASK_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  KUMO_SHUTDOWN_DEADLINE_MS: z.coerce.number().int().min(1000).default(60_000),
  LOG_LEVEL: z.string().default('info'),
  ...tokenSigningEnvShape,
  ...budgetTimeZoneEnvShape,
  ...limitsEnvShape,
  // Also GOOGLE_CLOUD_PROJECT, which the cloud seams below need too.
  ...listingEnvShape,
  // Where task logs are kept: KUMO_ARTIFACTS_DIR (the local workers' folder too), or KUMO_ARTIFACTS_BUCKET on GCP.
  ...taskLogsEnvShape,
});
export type LocalEnv = z.infer<typeof schema>;

export function parseLocalEnv(env: NodeJS.ProcessEnv): LocalEnv {
  const r = schema.safeParse(env);
  if (!r.success)
    throw new KumoError(
      'CONFIG_INVALID',
      `configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  if ((r.data.KUMO_BUS === 'pubsub' || r.data.KUMO_PROVIDER === 'gce') && !r.data.GOOGLE_CLOUD_PROJECT) {
    throw new KumoError(
      'CONFIG_INVALID',
      'configuration: KUMO_BUS=pubsub and KUMO_PROVIDER=gce need GOOGLE_CLOUD_PROJECT',
    );
  }
  return r.data;
}
