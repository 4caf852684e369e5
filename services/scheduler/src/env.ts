import { z } from 'zod';
import { budgetTimeZoneEnvShape, KumoError, type VmSpec } from '@kumo/shared';

const schema = z.object({
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  KUMO_PREFIX: z.string().min(1).default('kumo'),
  KUMO_BUS: z.enum(['redis', 'pubsub']).default('redis'),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  KUMO_FEED_INTERVAL_MS: z.coerce.number().int().min(10).default(100),
  KUMO_SCALE_INTERVAL_MS: z.coerce.number().int().min(100).default(2000),
  KUMO_LEADER_TTL_MS: z.coerce.number().int().min(1000).default(5000),
  /** The most evaluation jobs one training job's checkpoints start. */
  KUMO_MAX_EVALUATIONS_PER_JOB: z.coerce.number().int().min(0).default(100),
  /**
   * Refused: a Redis URL handed to VMs would sit in their instance metadata, where anything on the VM
   * reads it. The provisioner names a Secret Manager secret instead (KUMO_WORKER_REDIS_URL_SECRET).
   */
  KUMO_WORKER_REDIS_URL: z
    .undefined({
      error:
        'no longer given to VMs (it would be in their instance metadata): store the URL in Secret Manager and name the secret with KUMO_WORKER_REDIS_URL_SECRET on the provisioner',
    })
    .optional(),
  KUMO_CONTROL_URL: z.string().optional(),
  /** The GCS bucket the workers keep task logs (and checkpoints' index) in: handed to every new VM's worker. */
  KUMO_ARTIFACTS_BUCKET: z.string().min(3).optional(),
  /**
   * The longest task lock of the fleet (the agents' KUMO_TASK_LOCK_MS, the API's HTTPS lease): a task lost
   * from its queue is found within twice this. Default 60 s.
   */
  KUMO_TASK_LOCK_MS: z.coerce.number().int().min(1000).optional(),
  LOG_LEVEL: z.string().default('info'),
  ...budgetTimeZoneEnvShape,
});
export type SchedulerEnv = z.infer<typeof schema>;

export function parseSchedulerEnv(env: NodeJS.ProcessEnv): SchedulerEnv {
  const r = schema.safeParse(env);
  if (!r.success)
    throw new KumoError(
      'CONFIG_INVALID',
      `scheduler configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

/** The settings new VMs' workers are given, as the scheduler's own env (or `npm start`'s) names them. */
export type WorkerSettingsEnv = Pick<
  SchedulerEnv,
  'KUMO_CONTROL_URL' | 'KUMO_BUS' | 'KUMO_PREFIX' | 'GOOGLE_CLOUD_PROJECT' | 'KUMO_ARTIFACTS_BUCKET'
>;

/**
 * What new VMs' workers are told: where the API is, the bus (and prefix) to report on, and the bucket
 * their task logs go to (Redis comes from Secret Manager). The one place this is decided, for the
 * scheduler run alone and for `npm start` on Compute Engine alike.
 */
export function workerSettingsOf(env: WorkerSettingsEnv): VmSpec['worker'] {
  return {
    ...(env.KUMO_CONTROL_URL ? { controlUrl: env.KUMO_CONTROL_URL } : {}),
    // Left to its own defaults (redis, 'kumo'), a VM's worker would publish progress where no ingester
    // of this control plane listens, and its counts would never move; without the bucket, its tasks'
    // logs would stay on a VM that is deleted, and the API would answer TASK_NOT_RUN for them.
    extraEnv: {
      KUMO_BUS: env.KUMO_BUS,
      KUMO_PREFIX: env.KUMO_PREFIX,
      ...(env.GOOGLE_CLOUD_PROJECT ? { GOOGLE_CLOUD_PROJECT: env.GOOGLE_CLOUD_PROJECT } : {}),
      ...(env.KUMO_ARTIFACTS_BUCKET ? { KUMO_ARTIFACTS_BUCKET: env.KUMO_ARTIFACTS_BUCKET } : {}),
    },
  };
}
