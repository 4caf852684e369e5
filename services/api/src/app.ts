import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import {
  createRedis,
  FleetStore,
  JobStore,
  KumoError,
  Keys,
  PoolStore,
  runCleanupSteps,
  TokenStore,
  tokenSigningKey,
  wallClock,
  WorkerRegistry,
  type ArtifactStore,
  type Bus,
  type Clock,
  type Logger,
} from '@kumo/shared';
import type { ApiContext } from './context';
import { JobEventsHub } from './job-events-hub';
import { PoolQueues } from './pool-queues';
import { ListingResolver } from './listings/listing-resolver';
import { listingOptionsOf, type ListingOptions } from './listings/listing-options';
import { installAuth } from './plugins/auth';
import { limitsOf, type ApiLimits } from './limits';
import { installBodyParsers } from './plugins/body-parsers';
import { installCors } from './plugins/cors';
import { installRateLimit } from './plugins/rate-limit';
import { installRouteInventory } from './plugins/route-inventory';
import { errorAnswer, installErrorHandler } from './plugins/error-handler';
import { dashboardRoutes } from './routes/dashboard';
import { healthRoutes } from './routes/health';
import { adminQueuesRoutes } from './routes/admin-queues';
import { jobEventRoutes } from './routes/job-events';
import { jobRoutes } from './routes/jobs';
import { jobDeletionRoutes } from './routes/job-deletion';
import { jobRerunRoutes } from './routes/job-reruns';
import { contributorRoutes } from './routes/contributors';
import { metricsRoutes } from './routes/metrics';
import { pipelineRoutes } from './routes/pipelines';
import { workerRoutes } from './routes/workers';
import { taskLogRoutes } from './routes/task-logs';
import { LeaseBroker } from './workers/lease-broker';
import { poolRoutes } from './routes/pools';
import { simulationRoutes } from './routes/simulations';
import { tokenRoutes } from './routes/tokens';
import { userRoutes } from './routes/users';
import { spendRoutes } from './routes/spend';

export interface ApiOptions {
  redisUrl: string;
  prefix?: string;
  adminToken: string;
  /**
   * Signs token records (>= 32 bytes); only the API holds it, never workers or the scheduler. Unset:
   * derived from adminToken, so a new admin token refuses every minted token until re-minted.
   */
  tokenSigningKey?: string;
  logger: Logger;
  clock?: Clock;
  /** Default 1 MiB (the contract's limit). */
  bodyLimit?: number;
  /**
   * Where the API publishes what HTTPS workers report: the bus the scheduler's ingester reads
   * (KUMO_BUS). Required, and the caller's to close: a bus of the API's own choosing would carry
   * contributors' progress where nothing listens, and their jobs would never move.
   */
  bus: Bus;
  /** Where task logs are kept (the workers' artifact store, and where HTTPS workers' logs are written). Unset: no logs are served. */
  taskLogs?: ArtifactStore;
  /** How long an HTTPS worker's lease lives without a heartbeat. Default 60 s. */
  leaseSeconds?: number;
  /** Rate limits, stream caps, CORS origins, timeouts; each unset one takes its default (limits.ts). */
  limits?: Partial<ApiLimits>;
  /** How `source.listing` is read at submit: roots, GCS endpoint, limits (listings/listing-options.ts). Default: the working directory as the only root. */
  listings?: Partial<ListingOptions>;
  /** Whose midnight starts a month for monthly budgets and the spend report. Default Asia/Tokyo. */
  budgetTimeZone?: string;
}

/** Builds the API: external plugins, then ours, then routes. `server.ts` listens; tests use inject. */
export async function buildApp(opts: ApiOptions): Promise<FastifyInstance> {
  // First, before any connection opens: a key too short is a configuration error, not a half-built app.
  const signingKey = tokenSigningKey({ explicitKey: opts.tokenSigningKey, adminToken: opts.adminToken });
  const clock = opts.clock ?? wallClock;
  const prefix = opts.prefix ?? 'kumo';
  const limits = limitsOf(opts.limits);
  const app: FastifyInstance = Fastify({
    loggerInstance: opts.logger.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // No line per request: polls and probes run at thousands a second; errors are logged where handled.
    logController: new LogController({ disableRequestLogging: true }),
    // Probes and SSE reconnects are frequent; ids in every log line tie a request together.
    requestIdHeader: 'x-request-id',
    return503OnClosing: true,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    // Errors Fastify raises before routing (a malformed URL, a bad header) get our error shape too.
    frameworkErrors: (err, _req, reply) => {
      // Typed for a generic route's reply; this handler runs before any route is chosen.
      void reply.status(400 as never).send(errorAnswer(new KumoError('INVALID_INPUT', err.message)) as never);
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // Not auto-pipelined: ioredis (5.11) threw "results[i] is not iterable" from its auto-pipeline callback under
  // load (a clean-clone run), an uncaught exception that left a request unanswered. Correct before fast.
  const redis = createRedis(opts.redisUrl, 'command', 'api', { logger: opts.logger });
  const keys = new Keys(prefix);
  const jobs = new JobStore(redis, {
    prefix,
    clock,
    ...(opts.budgetTimeZone ? { budgetTimeZone: opts.budgetTimeZone } : {}),
  });
  const hub = new JobEventsHub({
    subscriber: createRedis(opts.redisUrl, 'subscriber', 'api', { logger: opts.logger }),
    keys,
    jobs,
    logger: opts.logger.child({ component: 'job-events' }),
    maxWatchers: limits.sseTotal,
    maxWatchersPerOwner: limits.ssePerToken,
  });
  const queueRedis = createRedis(opts.redisUrl, 'command', 'api-queues', { logger: opts.logger });
  const queues = new PoolQueues(queueRedis, keys);
  const ctx: ApiContext = {
    redis,
    queues,
    keys,
    clock,
    jobs,
    pools: new PoolStore(redis, { prefix, clock }),
    tokens: new TokenStore(redis, { prefix, clock, signingKey, logger: opts.logger.child({ component: 'tokens' }) }),
    fleet: new FleetStore(redis, { prefix, clock }),
    workers: new WorkerRegistry(redis, { prefix, clock }),
    hub,
    listings: new ListingResolver(listingOptionsOf(opts.listings)),
  };
  app.decorate('kumo', ctx);
  const broker = new LeaseBroker({
    redis,
    queues,
    redisUrl: opts.redisUrl,
    prefix,
    jobs,
    bus: opts.bus,
    clock,
    logger: opts.logger.child({ component: 'leases' }),
    ...(opts.leaseSeconds ? { leaseSeconds: opts.leaseSeconds } : {}),
  });
  // One hook, in this order: Fastify runs several onClose hooks last-registered first, which closed
  // Redis before the broker's last dispatch-latency flush.
  app.addHook('onClose', () =>
    runCleanupSteps(
      [
        ['lease broker', () => broker.close()],
        ['queues', () => queues.close()],
        // BullMQ leaves a connection it was given open: it is ours to close.
        ['queue connection', () => queueRedis.quit().catch(() => queueRedis.disconnect())],
        ['event hub', () => hub.close()],
        ['redis', () => redis.quit().catch(() => redis.disconnect())],
      ],
      (step, err) => opts.logger.warn({ err, step }, 'API shutdown step failed'),
    ),
  );
  await hub.start();

  installRouteInventory(app);
  await installCors(app, limits.corsOrigins);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'kumo',
        version: '0.1.0',
        description: 'Job orchestrator and control plane for LLM data and training work on Google Cloud',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  installErrorHandler(app);
  installBodyParsers(app);
  installAuth(app, { adminToken: opts.adminToken, tokens: ctx.tokens });
  await installRateLimit(app, limits);

  healthRoutes(app);
  jobRoutes(app);
  jobRerunRoutes(app);
  contributorRoutes(app);
  jobEventRoutes(app, limits);
  poolRoutes(app);
  tokenRoutes(app);
  userRoutes(app);
  spendRoutes(app);
  simulationRoutes(app);
  pipelineRoutes(app);
  workerRoutes(app, broker);
  taskLogRoutes(app, { store: opts.taskLogs, broker });
  jobDeletionRoutes(app, { taskLogs: opts.taskLogs });
  metricsRoutes(app);
  adminQueuesRoutes(app);
  dashboardRoutes(app);
  return app;
}
