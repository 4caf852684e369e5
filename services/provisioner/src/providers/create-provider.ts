import { KumoError, type FleetProvider, type Logger } from '@kumo/shared';
import type { ProvisionerEnv } from '../env';
import { GceProvider } from './gce-provider';
import { LocalProvider } from './local-provider';
import { localWorkerArgv } from './local-worker-argv';
import { loadWorkerStartupScript } from './startup-script';

/**
 * The one place KUMO_PROVIDER becomes a FleetProvider. `inheritedEnv` is the environment main was
 * started with; local workers start from it (see LocalProviderOptions).
 */
export function createProvider(
  env: ProvisionerEnv,
  logger: Logger,
  workerEnv: Record<string, string>,
  inheritedEnv: NodeJS.ProcessEnv,
): FleetProvider {
  switch (env.KUMO_PROVIDER) {
    case 'local':
      return new LocalProvider({
        workerArgv: localWorkerArgv(),
        env: workerEnv,
        inheritedEnv,
        logger: logger.child({ component: 'local-fleet' }),
      });
    case 'gce':
      return new GceProvider({
        projectId: env.GOOGLE_CLOUD_PROJECT!,
        ...(env.KUMO_COMPUTE_ENDPOINT ? { endpoint: env.KUMO_COMPUTE_ENDPOINT } : {}),
        ...(env.KUMO_WORKER_SERVICE_ACCOUNT ? { serviceAccountEmail: env.KUMO_WORKER_SERVICE_ACCOUNT } : {}),
        ...(env.KUMO_WORKER_BUNDLE_URI ? { workerBundleUri: env.KUMO_WORKER_BUNDLE_URI } : {}),
        ...(env.KUMO_NETWORK ? { network: env.KUMO_NETWORK } : {}),
        ...(env.KUMO_SUBNETWORK ? { subnetwork: env.KUMO_SUBNETWORK } : {}),
        workerSecrets: {
          ...(env.KUMO_WORKER_REDIS_URL_SECRET ? { redisUrl: env.KUMO_WORKER_REDIS_URL_SECRET } : {}),
          ...(env.KUMO_WORKER_TOKEN_SECRET ? { workerToken: env.KUMO_WORKER_TOKEN_SECRET } : {}),
        },
        startupScript: loadWorkerStartupScript(),
        logger: logger.child({ component: 'gce' }),
      });
    case 'sim':
      throw new KumoError('CONFIG_INVALID', 'KUMO_PROVIDER=sim runs inside `kumo simulate`, not as a service');
  }
}
