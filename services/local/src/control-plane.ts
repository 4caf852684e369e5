import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type ApiLimits, type ListingOptions } from '@kumo/api';
import { createProvider, LocalProvider, localWorkerArgv, Provisioner, type ProvisionerEnv } from '@kumo/provisioner';
import { Scheduler } from '@kumo/scheduler';
import {
  runCleanupSteps,
  assertRedisSafe,
  createArtifactStore,
  createBus,
  createRedis,
  LOCAL_POOL_DEFAULTS,
  PoolStore,
  poolSettingsSchema,
  wallClock,
  type ArtifactStore,
  type Bus,
  type FleetProvider,
  type Logger,
  type VmSpec,
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
  /** The local workers' artifacts folder (their KUMO_ARTIFACTS_DIR): checkpoints and task logs. Default `.kumo/artifacts` in the working directory. */
  artifactsDir?: string;
  /** Where the API reads task logs (and writes HTTPS workers' ones): default the local workers' folder; a bucket on GCP. */
  taskLogs?: ArtifactStore;
  /** How long a local worker's task lock lives without renewal (its KUMO_TASK_LOCK_MS); default the worker's own, 30 s. */
  taskLockMs?: number;
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
  /** Whose midnight starts a month for monthly budgets and the spend report (default Asia/Tokyo). */
  budgetTimeZone?: string;
  /** The API's rate limits, stream caps, CORS and timeouts (defaults: services/api/src/limits.ts). */
  apiLimits?: Partial<ApiLimits>;
  /** Where the API may read `source.listing` from (roots, GCS endpoint); default the working directory only. */
  listings?: Partial<ListingOptions>;
  /**
   * The bus and the fleet, from main's configuration (KUMO_BUS, KUMO_PROVIDER): on a laptop the Redis
   * Streams bus and local worker processes; on GCP (infra/ runs `npm start` so) the Pub/Sub bus and the
   * Compute Engine fleet, whose settings main reads as the provisioner does (`compute`). Never
   * defaulted here: a composer that picked its own bus would split the control plane in two.
   */
  cloud: { bus: 'redis' | 'pubsub'; projectId?: string } & (
    | { provider: 'local' }
    /** `worker`: what each new VM's worker is told (workerSettingsOf: the API's URL, the bus, the bucket). */
    | { provider: 'gce'; compute: ProvisionerEnv; worker: VmSpec['worker'] }
  );
  /**
   * The environment main was started with: local workers start from it (PATH, HOME, PUBSUB_EMULATOR_HOST,
   * ...), less the control plane's secrets, as a VM's agent starts from its machine's.
   */
  inheritedEnv: NodeJS.ProcessEnv;
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

  const cloud = opts.cloud;
  // The local workers' artifacts folder (KUMO_ARTIFACTS_DIR; their own default: .kumo/artifacts in the
  // working directory they share with this process) is where the API reads their task logs and writes
  // HTTPS workers' ones: one folder, one machine. Not under dataDir: a task must pass through the folders
  // above its checkpoint folder, and a data folder may be private.
  const artifactsDir =
    opts.artifactsDir ?? opts.workerEnv?.KUMO_ARTIFACTS_DIR ?? join(process.cwd(), '.kumo', 'artifacts');
  const bus: Bus = await createBus({
    kind: cloud.bus,
    redisUrl,
    prefix: opts.prefix,
    logger: log,
    ...(cloud.projectId ? { projectId: cloud.projectId } : {}),
  });
  let local: LocalProvider | undefined;
  let provider: FleetProvider;
  if (cloud.provider === 'gce')
    provider = createProvider({ ...cloud.compute, KUMO_PROVIDER: 'gce' }, log, {}, opts.inheritedEnv);
  else {
    provider = local = new LocalProvider({
      workerArgv: localWorkerArgv(),
      env: {
        REDIS_URL: redisUrl,
        KUMO_PREFIX: opts.prefix,
        KUMO_BUS: cloud.bus,
        KUMO_ARTIFACTS_DIR: artifactsDir,
        ...(opts.taskLockMs ? { KUMO_TASK_LOCK_MS: String(opts.taskLockMs) } : {}),
        ...opts.workerEnv,
      },
      inheritedEnv: opts.inheritedEnv,
      logger: log.child({ component: 'local-fleet' }),
    });
  }
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
    ...(cloud.provider === 'gce' ? { workerSettings: cloud.worker } : {}),
    // The longest lock any worker here takes: the local workers' own, or an HTTPS worker's lease.
    ...(opts.taskLockMs ? { taskLockMs: Math.max(opts.taskLockMs, (opts.leaseSeconds ?? 60) * 1000) } : {}),
    ...(opts.stockoutBackoffMs !== undefined ? { stockoutBackoffMs: opts.stockoutBackoffMs } : {}),
    ...(opts.budgetTimeZone ? { budgetTimeZone: opts.budgetTimeZone } : {}),
  });
  const app = await buildApp({
    taskLogs: opts.taskLogs ?? createArtifactStore({ localDir: artifactsDir }),
    redisUrl,
    prefix: opts.prefix,
    adminToken: opts.adminToken,
    ...(opts.tokenSigningKey ? { tokenSigningKey: opts.tokenSigningKey } : {}),
    logger: log,
    bus,
    ...(opts.leaseSeconds ? { leaseSeconds: opts.leaseSeconds } : {}),
    ...(opts.apiLimits ? { limits: opts.apiLimits } : {}),
    ...(opts.listings ? { listings: opts.listings } : {}),
    ...(opts.budgetTimeZone ? { budgetTimeZone: opts.budgetTimeZone } : {}),
  });
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
