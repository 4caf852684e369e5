import { join } from 'node:path';
import { limitsFromEnv, listingOptionsFromEnv, taskLogStoreFromEnv } from '@kumo/api';
import { parseProvisionerEnv } from '@kumo/provisioner';
import { workerSettingsOf } from '@kumo/scheduler';
import { DEFAULT_SANDBOX_SETTINGS, TaskSandbox } from '@kumo/worker';
import { createLogger, isKumoError } from '@kumo/shared';
import { resolveAdminToken } from './admin-token';
import { defaultDataDir, startControlPlane } from './control-plane';
import { parseLocalEnv } from './env';

/** `npm start`: the whole control plane on this machine, with embedded defaults. */
async function main(): Promise<void> {
  const env = parseLocalEnv(process.env);
  const dataDir = env.KUMO_DATA_DIR ?? defaultDataDir();
  const logger = createLogger({ name: 'kumo', level: env.LOG_LEVEL });
  const tokenFile = join(dataDir, 'admin-token');
  const { token, generated } = resolveAdminToken(tokenFile, env.KUMO_ADMIN_TOKEN);
  const cp = await startControlPlane({
    dataDir,
    host: env.HOST,
    port: env.PORT,
    adminToken: token,
    ...(env.KUMO_TOKEN_SIGNING_KEY ? { tokenSigningKey: env.KUMO_TOKEN_SIGNING_KEY } : {}),
    ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}),
    prefix: env.KUMO_PREFIX,
    logger,
    taskLockMs: env.KUMO_TASK_LOCK_MS,
    budgetTimeZone: env.KUMO_BUDGET_TIME_ZONE,
    ...(env.KUMO_ARTIFACTS_DIR ? { artifactsDir: env.KUMO_ARTIFACTS_DIR } : {}),
    taskLogs: taskLogStoreFromEnv(env, join(process.cwd(), '.kumo', 'artifacts')),
    apiLimits: limitsFromEnv(env),
    listings: listingOptionsFromEnv(env),
    cloud: {
      bus: env.KUMO_BUS,
      ...(env.GOOGLE_CLOUD_PROJECT ? { projectId: env.GOOGLE_CLOUD_PROJECT } : {}),
      // Compute Engine's settings are the provisioner's own variables (KUMO_COMPUTE_ENDPOINT, KUMO_NETWORK, ...).
      ...(env.KUMO_PROVIDER === 'gce'
        ? {
            provider: 'gce' as const,
            compute: parseProvisionerEnv({ ...process.env, KUMO_PROVIDER: 'gce' }),
            worker: workerSettingsOf(env),
          }
        : { provider: 'local' as const }),
    },
    inheritedEnv: process.env,
    localPool: {
      ...(env.KUMO_LOCAL_WORKERS !== undefined ? { max: env.KUMO_LOCAL_WORKERS } : {}),
      ...(env.KUMO_LOCAL_SLOTS !== undefined ? { slotsPerVm: env.KUMO_LOCAL_SLOTS } : {}),
    },
  });
  logger.info({ url: cp.url, redis: env.REDIS_URL ? 'external' : 'own' }, 'kumo is up');
  // The local workers run other people's code: say it once, up front, when they cannot isolate it.
  const notIsolated = new TaskSandbox({
    ...DEFAULT_SANDBOX_SETTINGS,
    allowUnisolated: env.KUMO_UNISOLATED_TASKS === '1',
  }).describe();
  if (notIsolated) process.stderr.write(`warning: ${notIsolated}\n`);
  process.stderr.write(`\nkumo is up at ${cp.url}  (API docs: ${cp.url}/docs)\n`);
  if (generated) process.stderr.write(`admin token (shown once; saved in ${tokenFile}):\n  ${token}\n\n`);
  else process.stderr.write(`admin token: ${env.KUMO_ADMIN_TOKEN ? 'from KUMO_ADMIN_TOKEN' : `in ${tokenFile}`}\n\n`);

  let exiting = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (exiting) return;
    exiting = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown passed its deadline; exiting');
      process.exit(1);
    }, env.KUMO_SHUTDOWN_DEADLINE_MS).unref();
    await cp.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const code = isKumoError(err) ? ` [${err.code}]` : '';
  console.error(`kumo: ${err instanceof Error ? err.message : String(err)}${code}`);
  process.exit(1);
});
