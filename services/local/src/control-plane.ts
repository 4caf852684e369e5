import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type ApiLimits, type ListingOptions } from '@kumo/api';
import { createProvider, LocalProvider, localWorkerArgv, parseProvisionerEnv, Provisioner } from '@kumo/provisioner';
import { Scheduler } from '@kumo/scheduler';
import {
  runCleanupSteps,
  assertRedisSafe,
  createBus,
  createRedis,
  LOCAL_POOL_DEFAULTS,
  PoolStore,
  poolSettingsSchema,
  wallClock,
  type Bus,
  type FleetProvider,
  type Logger,
} from '@kumo/shared';
import { launchRedis, type LaunchedRedis } from './redis-launcher';

export interface ControlPlaneOptions {
  dataDir: string;
  host: string;
  port: number;
  adminToken: string;
  /** Signs token records; given to the API only (never in workerEnv). Unset: derived from adminToken. */
  tokenSigningKey?: string;
  /** Unset: start kumo's own redis-server under dataDir. */
  redisUrl?: string;
  prefix: string;
  logger: Logger;
  /** Overrides for the `local` pool, applied only when the pool is first created. */
  localPool?: { max?: number; slotsPerVm?: number; idleTimeoutSeconds?: number; min?: number };
  /** Extra environment for worker processes (tests shorten lock times with it). */
  workerEnv?: Record<string, string>;
  scaleIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** Puts something between the provisioner and the local fleet (tests inject stockouts with it). */
  wrapProvider?: (local: LocalProvider) => FleetProvider;
  /** The scheduler's wait after a stockout in every zone / a quota error before asking again. */
  stockoutBackoffMs?: number;
  /** How long an HTTPS worker's lease lives without a heartbeat (default 60 s). */
  leaseSeconds?: number;
  /** The API's rate limits, stream caps, CORS and timeouts (defaults: services/api/src/limits.ts). */
  apiLimits?: Partial<ApiLimits>;
  /** Where the API may read `source.listing` from (roots, GCS endpoint); default the working directory only. */
  listings?: Partial<ListingOptions>;
  /**
   * The cloud side, for a control plane on GCP (infra/ runs `npm start` so): the Pub/Sub bus and the
   * Compute Engine fleet, configured from the environment as the provisioner reads it. Default: the
   * Redis Streams bus and local worker processes.
   */
  cloud?: { bus: 'redis' | 'pubsub'; provider: 'local' | 'gce'; projectId?: string };
}

export interface ControlPlane {
  url: string;
  redisUrl: string;
  app: FastifyInstance;
  scheduler: Scheduler;
  provisioner: Provisioner;
  /** The local fleet of worker processes; undefined when the fleet is Compute Engine. */
  local: LocalProvider | undefined;
  /** Graceful: stop taking requests, stop the workers (drain), stop the scheduler, close Redis. */
  stop(): Promise<void>;
}

/**
 * The all-in-one local start: the one place that knows every service. Each still runs as it would
 * alone; they talk through Redis and the bus, never by calling each other.
 */
export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.logger;
  let redis: LaunchedRedis | undefined;
  const redisUrl = opts.redisUrl ?? (redis = await launchRedis(opts.dataDir, log.child({ component: 'redis' }))).url;
  const probe = createRedis(redisUrl, 'command', 'local-probe');
  try {
    const { appendonly } = await assertRedisSafe(probe);
    if (!appendonly) log.warn('Redis has AOF off: accepted jobs do not survive a Redis restart');
    const pools = new PoolStore(probe, { prefix: opts.prefix });
    await pools.ensure('local', poolSettingsSchema.parse({ ...LOCAL_POOL_DEFAULTS, ...opts.localPool }));
  } finally {
    await probe.quit();
  }

  const busKind = opts.cloud?.bus ?? 'redis';
  const bus: Bus = await createBus({ kind: busKind, redisUrl, prefix: opts.prefix, logger: log, ...(opts.cloud?.projectId ? { projectId: opts.cloud.projectId } : {}) });
  const local =
    opts.cloud?.provider === 'gce'
      ? undefined
      : new LocalProvider({
          workerArgv: localWorkerArgv(),
          env: { REDIS_URL: redisUrl, KUMO_PREFIX: opts.prefix, KUMO_BUS: busKind, ...opts.workerEnv },
          logger: log.child({ component: 'local-fleet' }),
        });
  const provider: FleetProvider = local ?? createProvider(parseProvisionerEnv({ ...process.env, REDIS_URL: redisUrl, KUMO_PREFIX: opts.prefix, KUMO_PROVIDER: 'gce' }), log, {});
  const provisioner = new Provisioner({
    redisUrl,
    prefix: opts.prefix,
    bus,
    provider: opts.wrapProvider && local ? opts.wrapProvider(local) : provider,
    clock: wallClock,
    logger: log,
    reconcileIntervalMs: opts.reconcileIntervalMs ?? 2000,
    graceMs: 5000,
  });
  const scheduler = new Scheduler({
    redisUrl,
    prefix: opts.prefix,
    bus,
    clock: wallClock,
    logger: log,
    scaleIntervalMs: opts.scaleIntervalMs ?? 1000,
    ...(opts.stockoutBackoffMs !== undefined ? { stockoutBackoffMs: opts.stockoutBackoffMs } : {}),
  });
  const app = await buildApp({ redisUrl, prefix: opts.prefix, adminToken: opts.adminToken, ...(opts.tokenSigningKey ? { tokenSigningKey: opts.tokenSigningKey } : {}), logger: log, bus, ...(opts.leaseSeconds ? { leaseSeconds: opts.leaseSeconds } : {}), ...(opts.apiLimits ? { limits: opts.apiLimits } : {}), ...(opts.listings ? { listings: opts.listings } : {}) });
  await provisioner.start();
  await scheduler.start();
  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const steps: [string, () => Promise<unknown>][] = [
        ['api', () => app.close()],
        // Local workers end with the control plane; cloud VMs stay for the next start to reconcile.
    ['provisioner and workers', () => provisioner.stop({ releaseFleet: local !== undefined })],
        ['scheduler', () => scheduler.stop()],
        ['bus', () => bus.close()],
        ['redis', async () => redis?.stop()],
      ];
      await runCleanupSteps(steps, (step, err) => log.warn({ err, step }, 'shutdown step failed'));
    })());

  return { url: `http://${opts.host}:${port}`, redisUrl, app, scheduler, provisioner, local, stop };
}

export function defaultDataDir(): string {
  return join(process.cwd(), '.kumo');
}
