import { z } from 'zod';
import { KumoError } from '@kumo/shared';

const schema = z.object({
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  KUMO_PREFIX: z.string().min(1).default('kumo'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** 127.0.0.1 unless told otherwise: the API is not on the network by accident. */
  HOST: z.string().default('127.0.0.1'),
  KUMO_ADMIN_TOKEN: z.string().min(16, 'KUMO_ADMIN_TOKEN must be at least 16 characters').optional(),
  KUMO_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  LOG_LEVEL: z.string().default('info'),
});
export type ApiEnv = z.infer<typeof schema>;

export function parseApiEnv(env: NodeJS.ProcessEnv = process.env): ApiEnv {
  const r = schema.safeParse(env);
  if (!r.success) throw new KumoError('CONFIG_INVALID', `api configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}
