import { z } from 'zod';
import { KumoError } from '@kumo/shared';

const schema = z.object({
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  KUMO_PREFIX: z.string().min(1).default('kumo'),
  KUMO_BUS: z.enum(['redis', 'pubsub']).default('redis'),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  KUMO_FEED_INTERVAL_MS: z.coerce.number().int().min(10).default(100),
  KUMO_SCALE_INTERVAL_MS: z.coerce.number().int().min(100).default(2000),
  KUMO_LEADER_TTL_MS: z.coerce.number().int().min(1000).default(5000),
  /** What workers on new VMs connect to (Memorystore's address on GCP). */
  KUMO_WORKER_REDIS_URL: z.string().optional(),
  KUMO_CONTROL_URL: z.string().optional(),
  LOG_LEVEL: z.string().default('info'),
});
export type SchedulerEnv = z.infer<typeof schema>;

export function parseSchedulerEnv(env: NodeJS.ProcessEnv = process.env): SchedulerEnv {
  const r = schema.safeParse(env);
  if (!r.success) throw new KumoError('CONFIG_INVALID', `scheduler configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
