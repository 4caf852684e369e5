import { join } from 'node:path';
import { assertRedisSafe, createBus, createLogger, createRedis, exitOnSignal, KumoError, runMain } from '@kumo/shared';
import { buildApp } from './app';
import { limitsFromEnv, parseApiEnv, taskLogStoreFromEnv } from './env';
import { listingOptionsFromEnv } from './listings/listing-options';

/** The API alone (production: one or more behind a load balancer). SIGTERM: stop accepting, drain, close. */
async function main(): Promise<void> {
  const env = parseApiEnv(process.env);
  const logger = createLogger({ name: 'kumo-api', level: env.LOG_LEVEL });
  if (!env.KUMO_ADMIN_TOKEN)
    throw new KumoError('CONFIG_INVALID', 'KUMO_ADMIN_TOKEN is required when the API runs alone');
  const probe = createRedis(env.REDIS_URL, 'command', 'api-probe');
  await assertRedisSafe(probe);
  await probe.quit();
  // The bus the scheduler and provisioner were started with (KUMO_BUS): HTTPS workers' reports go there.
  const bus = await createBus({
    kind: env.KUMO_BUS,
    redisUrl: env.REDIS_URL,
    prefix: env.KUMO_PREFIX,
    projectId: env.GOOGLE_CLOUD_PROJECT,
    logger,
  });
  const taskLogs = taskLogStoreFromEnv(env, join(process.cwd(), '.kumo', 'artifacts'));
  const app = await buildApp({
    taskLogs,
    redisUrl: env.REDIS_URL,
    prefix: env.KUMO_PREFIX,
    adminToken: env.KUMO_ADMIN_TOKEN,
    ...(env.KUMO_TOKEN_SIGNING_KEY ? { tokenSigningKey: env.KUMO_TOKEN_SIGNING_KEY } : {}),
    logger,
    bus,
    ...(env.KUMO_LEASE_SECONDS ? { leaseSeconds: env.KUMO_LEASE_SECONDS } : {}),
    bodyLimit: env.KUMO_BODY_LIMIT_BYTES,
    limits: limitsFromEnv(env),
    listings: listingOptionsFromEnv(env),
    budgetTimeZone: env.KUMO_BUDGET_TIME_ZONE,
  });
  await app.listen({ host: env.HOST, port: env.PORT });
  exitOnSignal(
    [
      ['api', () => app.close()],
      ['bus', () => bus.close()],
    ],
    { deadlineMs: 15_000, logger },
  );
}

runMain('api', main);
