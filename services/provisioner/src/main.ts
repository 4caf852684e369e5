import { createBus, createLogger, exitOnSignal, runMain, wallClock } from '@kumo/shared';
import { parseProvisionerEnv } from './env';
import { createProvider } from './providers/create-provider';
import { Provisioner } from './provisioner';

/** The provisioner alone: provision commands in, VMs and fleet events out. */
async function main(): Promise<void> {
  const env = parseProvisionerEnv(process.env);
  const logger = createLogger({ name: 'kumo-provisioner', level: env.LOG_LEVEL });
  const bus = await createBus({
    kind: env.KUMO_BUS,
    redisUrl: env.REDIS_URL,
    prefix: env.KUMO_PREFIX,
    projectId: env.GOOGLE_CLOUD_PROJECT,
    logger,
  });
  const provider = createProvider(
    env,
    logger,
    {
      REDIS_URL: env.REDIS_URL,
      KUMO_PREFIX: env.KUMO_PREFIX,
      KUMO_BUS: env.KUMO_BUS,
      ...(env.GOOGLE_CLOUD_PROJECT ? { GOOGLE_CLOUD_PROJECT: env.GOOGLE_CLOUD_PROJECT } : {}),
    },
    process.env,
  );
  const provisioner = new Provisioner({
    redisUrl: env.REDIS_URL,
    prefix: env.KUMO_PREFIX,
    bus,
    provider,
    clock: wallClock,
    logger,
    reconcileIntervalMs: env.KUMO_RECONCILE_INTERVAL_MS,
  });
  await provisioner.start();
  exitOnSignal(
    [
      // Local workers end with their provisioner; cloud VMs stay for the next one to reconcile.
      ['provisioner', () => provisioner.stop({ releaseFleet: provider.kind === 'local' })],
      ['bus', () => bus.close()],
    ],
    { deadlineMs: 60_000, logger },
  );
}

runMain('provisioner', main);
