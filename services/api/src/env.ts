import { z } from 'zod';
import {
  budgetTimeZoneEnvShape,
  createArtifactStore,
  KumoError,
  tokenSigningEnvShape,
  type ArtifactStore,
} from '@kumo/shared';
import type { ApiLimits } from './limits';

/**
 * The API's limits from the environment; shared with `npm start` (services/local), which runs the same
 * API. Unset ones keep their defaults (limits.ts).
 */
export const limitsEnvShape = {
  /** Requests per minute per token; 0 turns rate limiting off. */
  KUMO_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).optional(),
  KUMO_RATE_LIMIT_BURST: z.coerce.number().int().min(1).optional(),
  /** Requests with a wrong token one client address may send per minute before it must wait; 0 turns it off. */
  KUMO_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).optional(),
  /** Live (not yet ended) jobs one user may have at once; 0 turns the quota off. Admins are exempt. */
  KUMO_QUOTA_LIVE_JOBS: z.coerce.number().int().min(0).optional(),
  /** Bytes of listings one user's live jobs may hold in Redis; 0 turns the quota off. Admins are exempt. */
  KUMO_QUOTA_LISTING_BYTES: z.coerce.number().int().min(0).optional(),
  /** Event streams one token may hold open. */
  KUMO_SSE_PER_TOKEN: z.coerce.number().int().min(1).optional(),
  /** Comma-separated origins allowed by CORS (`https://a.example,https://b.example`); unset: CORS off. */
  KUMO_CORS_ORIGINS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
};

// Only its type is used (the limits' parsed shape): kept beside the shape it is made from.
const limitsEnvSchema = z.object(limitsEnvShape); // eslint-disable-line @typescript-eslint/no-unused-vars

/** Where `source.listing` may be read from (listings/listing-options.ts); shared with `npm start`. */
export const listingEnvShape = {
  /** Colon-separated folders local listings may be read from, besides the working directory. */
  KUMO_LISTING_ROOTS: z.string().optional(),
  /** `1`: https:// listings may come from internal addresses (a mirror on the team's network). */
  KUMO_LISTING_ALLOW_PRIVATE_HOSTS: z.enum(['0', '1']).optional(),
  /** An `http://host:port` in place of GCS (tests, emulators), for gs:// listings. */
  KUMO_STORAGE_ENDPOINT: z.url().optional(),
  GOOGLE_CLOUD_PROJECT: z.string().min(1).optional(),
};

/**
 * Where task logs are kept, as the workers keep them: a GCS bucket (KUMO_STORAGE_ENDPOINT replaces its
 * endpoint), else the workers' local artifacts folder (one machine). HTTPS workers' logs are written there too.
 */
export const taskLogsEnvShape = {
  KUMO_ARTIFACTS_BUCKET: z.string().min(3).optional(),
  KUMO_ARTIFACTS_DIR: z.string().min(1).optional(),
};

/** The API's task log store from its environment; `localDir` unless the environment names a folder or a bucket. */
export function taskLogStoreFromEnv(
  env: {
    KUMO_ARTIFACTS_BUCKET?: string | undefined;
    KUMO_ARTIFACTS_DIR?: string | undefined;
    KUMO_STORAGE_ENDPOINT?: string | undefined;
    GOOGLE_CLOUD_PROJECT?: string | undefined;
  },
  localDir: string,
): ArtifactStore {
  return createArtifactStore({
    localDir: env.KUMO_ARTIFACTS_DIR ?? localDir,
    ...(env.KUMO_ARTIFACTS_BUCKET ? { bucket: env.KUMO_ARTIFACTS_BUCKET } : {}),
    ...(env.GOOGLE_CLOUD_PROJECT ? { projectId: env.GOOGLE_CLOUD_PROJECT } : {}),
    ...(env.KUMO_STORAGE_ENDPOINT ? { endpoint: env.KUMO_STORAGE_ENDPOINT } : {}),
  });
}

export function limitsFromEnv(env: z.infer<typeof limitsEnvSchema>): Partial<ApiLimits> {
  return {
    ...(env.KUMO_RATE_LIMIT_PER_MINUTE !== undefined ? { ratePerMinute: env.KUMO_RATE_LIMIT_PER_MINUTE } : {}),
    ...(env.KUMO_RATE_LIMIT_BURST !== undefined ? { rateBurst: env.KUMO_RATE_LIMIT_BURST } : {}),
    ...(env.KUMO_SSE_PER_TOKEN !== undefined ? { ssePerToken: env.KUMO_SSE_PER_TOKEN } : {}),
    ...(env.KUMO_AUTH_FAILURES_PER_MINUTE !== undefined
      ? { authFailuresPerMinute: env.KUMO_AUTH_FAILURES_PER_MINUTE }
      : {}),
    ...(env.KUMO_QUOTA_LIVE_JOBS !== undefined ? { liveJobsPerUser: env.KUMO_QUOTA_LIVE_JOBS } : {}),
    ...(env.KUMO_QUOTA_LISTING_BYTES !== undefined ? { listingBytesPerUser: env.KUMO_QUOTA_LISTING_BYTES } : {}),
    corsOrigins: env.KUMO_CORS_ORIGINS,
  };
}

const schema = z.object({
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  KUMO_PREFIX: z.string().min(1).default('kumo'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** 127.0.0.1 unless told otherwise: the API is not on the network by accident. */
  HOST: z.string().default('127.0.0.1'),
  KUMO_ADMIN_TOKEN: z.string().min(16, 'KUMO_ADMIN_TOKEN must be at least 16 characters').optional(),
  KUMO_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** The bus the rest of the control plane uses: what HTTPS workers report goes where the scheduler reads. */
  KUMO_BUS: z.enum(['redis', 'pubsub']).default('redis'),
  /** How long an HTTPS worker's lease lives without a heartbeat; unset, the broker's default (60 s). */
  KUMO_LEASE_SECONDS: z.coerce.number().int().min(2).max(3600).optional(),
  ...taskLogsEnvShape,
  LOG_LEVEL: z.string().default('info'),
  ...tokenSigningEnvShape,
  ...budgetTimeZoneEnvShape,
  ...limitsEnvShape,
  ...listingEnvShape,
});
export type ApiEnv = z.infer<typeof schema>;

export function parseApiEnv(env: NodeJS.ProcessEnv): ApiEnv {
  const r = schema.safeParse(env);
  if (!r.success)
    throw new KumoError(
      'CONFIG_INVALID',
      `api configuration: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  if (r.data.KUMO_BUS === 'pubsub' && !r.data.GOOGLE_CLOUD_PROJECT)
    throw new KumoError('CONFIG_INVALID', 'api configuration: KUMO_BUS=pubsub needs GOOGLE_CLOUD_PROJECT');
  return r.data;
}
