import { z } from 'zod';
import { KumoError } from '@kumo/shared';

const schema = z.object({
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  KUMO_PREFIX: z.string().min(1).default('kumo'),
  KUMO_BUS: z.enum(['redis', 'pubsub']).default('redis'),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  KUMO_POOL: z.string().min(1).default('local'),
  /** The VM (or process) name; the fleet knows the worker by it. */
  KUMO_WORKER_NAME: z.string().min(1).default(`worker-${process.pid}`),
  KUMO_SLOTS: z.coerce.number().int().min(1).max(1024).default(4),
  /** How long a task's lock lives without renewal: a worker gone this long loses its tasks. */
  KUMO_TASK_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  /** On SIGTERM: how long running tasks may finish before they are handed back. */
  KUMO_DRAIN_MS: z.coerce.number().int().min(0).default(20_000),
  KUMO_HEARTBEAT_MS: z.coerce.number().int().min(100).default(5_000),
  LOG_LEVEL: z.string().default('info'),
});

export type WorkerEnv = z.infer<typeof schema>;

/** Parsed once at start-up: bad configuration stops the worker with a clear message. */
export function parseWorkerEnv(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const r = schema.safeParse(env);
  if (!r.success) {
    throw new KumoError('CONFIG_INVALID', `worker configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}
