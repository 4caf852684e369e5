import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp, type ApiOptions } from '@kumo/api';
import { Scheduler, type SchedulerOptions } from '@kumo/scheduler';
import { WorkerAgent } from '@kumo/worker';
import { taskHost } from '../../test/support/task-host';
import { startChild, type Child } from './child';
import {
  createBus,
  createLogger,
  JobStore,
  LOCAL_POOL_DEFAULTS,
  PoolStore,
  poolSettingsSchema,
  wallClock,
  type Bus,
  type JobState,
  type Logger,
} from '@kumo/shared';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
export const BENCH_POOL = 'bench';

export const logger: Logger = createLogger({ name: 'bench', level: process.env.BENCH_LOG_LEVEL ?? 'error' });

/**
 * The API's options for the bench. Per-token limits (requests per minute, event streams per token) are
 * turned off: the bench drives the API from one token, far past what one client is allowed, to
 * measure the API's capacity, not its limiter.
 */
export function apiOptions(redisUrl: string, prefix: string, bus: Bus): ApiOptions {
  return {
    redisUrl,
    prefix,
    adminToken: ADMIN_TOKEN,
    logger,
    bus,
    limits: { ratePerMinute: 0, ssePerToken: 100_000, sseTotal: 100_000 },
  };
}

export function benchPrefix(name: string): string {
  return `bench-${name}-${randomBytes(3).toString('hex')}`;
}

/** The smallest extraction spec, with `batches` no-op tasks. */
export function noopSpec(batches: number, name = 'bench'): Record<string, unknown> {
  return {
    kind: 'extraction',
    name,
    source: { snapshot: 'CC-MAIN-2023-50', batches },
    pool: BENCH_POOL,
    run: { builtin: 'noop' },
  };
}

export interface KumoOptions {
  redisUrl: string;
  prefix: string;
  /** In-process WorkerAgents (0: none). */
  agents?: number;
  /**
   * Worker processes (services/worker/src/main.ts), as `npm start`'s local fleet runs them and as each
   * VM does: each its own OS process, not sharing the control plane's event loop. 0: none.
   */
  workerProcesses?: number;
  /** Slots per agent; the pool's slotsPerVm. */
  slots?: number;
  /** Pool max (default: agents). */
  poolMax?: number;
  scheduler?: boolean;
  api?: boolean;
  /** Extra Scheduler options (diagnostics only: the table's rows run the defaults). */
  schedulerOptions?: Partial<SchedulerOptions>;
}

/**
 * kumo composed in this process the way `startControlPlane` does, minus the provisioner and its worker
 * processes: the API (buildApp), the Scheduler (feeder, ingester, autoscaler) and N WorkerAgents, each
 * with its own bus (as each worker process has), on one Redis under one prefix.
 */
export class Kumo {
  app: FastifyInstance | undefined;
  scheduler: Scheduler | undefined;
  readonly agents: WorkerAgent[] = [];
  readonly workerChildren: Child[] = [];
  readonly redis: Redis;
  readonly jobs: JobStore;
  private readonly buses: Bus[] = [];
  bus: Bus | undefined;
  /** HGETs the bench issued on this prefix while waiting; taken out of command counts. */
  polls = 0;

  private constructor(readonly opts: KumoOptions) {
    this.redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, connectionName: 'bench' });
    this.jobs = new JobStore(this.redis, { prefix: opts.prefix });
  }

  static async start(opts: KumoOptions): Promise<Kumo> {
    const k = new Kumo(opts);
    const agents = opts.agents ?? 0;
    const processes = opts.workerProcesses ?? 0;
    const slots = opts.slots ?? 32;
    await new PoolStore(k.redis, { prefix: opts.prefix }).put(
      BENCH_POOL,
      poolSettingsSchema.parse({
        ...LOCAL_POOL_DEFAULTS,
        min: 0,
        max: opts.poolMax ?? Math.max(1, agents + processes),
        slotsPerVm: slots,
        idleTimeoutSeconds: 3600,
      }),
    );
    if (opts.scheduler !== false) await k.startScheduler();
    if (opts.api !== false) {
      // The scheduler's bus, as `npm start` shares one: what HTTPS workers report reaches its ingester.
      k.bus ??= await k.newBus();
      k.app = await buildApp(apiOptions(opts.redisUrl, opts.prefix, k.bus));
      await k.app.ready();
    }
    for (let n = 0; n < agents; n++) {
      const agent = new WorkerAgent({
        redisUrl: opts.redisUrl,
        prefix: opts.prefix,
        bus: await k.newBus(),
        pool: BENCH_POOL,
        id: `bench-worker-${n}`,
        slots,
        // The worker's own defaults (services/worker/src/env.ts).
        lockMs: 30_000,
        drainMs: 2_000,
        heartbeatMs: 5_000,
        ...taskHost(),
        clock: wallClock,
        logger,
      });
      await agent.start();
      k.agents.push(agent);
    }
    k.workerChildren.push(
      ...(await Promise.all(
        Array.from({ length: processes }, (_, n) =>
          startChild(
            '../../services/worker/src/main.ts',
            // The worker's own defaults otherwise (services/worker/src/env.ts), as for the in-process agents.
            {
              REDIS_URL: opts.redisUrl,
              KUMO_PREFIX: opts.prefix,
              KUMO_POOL: BENCH_POOL,
              KUMO_WORKER_NAME: `bench-worker-process-${n}`,
              KUMO_SLOTS: String(slots),
              KUMO_DRAIN_MS: '2000',
              LOG_LEVEL: 'info',
            },
            /worker started/,
          ),
        ),
      )),
    );
    return k;
  }

  /** The Scheduler as startControlPlane composes it (scaleIntervalMs 1000; every other setting its default). */
  async startScheduler(): Promise<Scheduler> {
    this.bus ??= await this.newBus();
    const s = new Scheduler({
      redisUrl: this.opts.redisUrl,
      prefix: this.opts.prefix,
      bus: this.bus,
      clock: wallClock,
      logger,
      scaleIntervalMs: 1000,
      ...this.opts.schedulerOptions,
    });
    this.scheduler = s;
    await s.start();
    // The first lease tick makes it the leader; feeding starts after it.
    const until = Date.now() + 10_000;
    while (!s.isLeader && Date.now() < until) await sleep(10);
    return s;
  }

  async newBus(): Promise<Bus> {
    const bus = await createBus({ kind: 'redis', redisUrl: this.opts.redisUrl, prefix: this.opts.prefix, logger });
    this.buses.push(bus);
    return bus;
  }

  /** POST /v1/jobs through the real API (inject: no socket); returns the id and the request's time. */
  async submit(spec: Record<string, unknown>): Promise<{ id: string; ms: number }> {
    if (!this.app) throw new Error('no API in this harness');
    const payload = JSON.stringify(spec);
    const t0 = performance.now();
    const res = await this.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      payload,
    });
    const ms = performance.now() - t0;
    if (res.statusCode !== 201) throw new Error(`submit answered ${res.statusCode}: ${res.body}`);
    return { id: (res.json() as { id: string }).id, ms };
  }

  /** The API on a loopback socket (for clients that speak HTTP, not inject); returns its base URL. */
  async listen(): Promise<string> {
    if (!this.app) throw new Error('no API in this harness');
    return this.app.listen({ host: '127.0.0.1', port: 0 });
  }

  /** A worker token for `pool`, minted through the API as an admin mints one (POST /v1/tokens). */
  async workerToken(name: string, pool = BENCH_POOL): Promise<string> {
    if (!this.app) throw new Error('no API in this harness');
    const res = await this.app.inject({
      method: 'POST',
      url: '/v1/tokens',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ role: 'worker', name, pool }),
    });
    if (res.statusCode !== 201) throw new Error(`token answered ${res.statusCode}: ${res.body}`);
    return (res.json() as { token: string }).token;
  }

  /** Polls the job's state (one HGET per poll, counted in `polls`) until it is one of `states`. */
  async waitForState(id: string, states: JobState[], timeoutMs: number, intervalMs = 20): Promise<JobState> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      this.polls++;
      const s = (await this.redis.hget(`${this.opts.prefix}:job:${id}`, 'state')) as JobState | null;
      if (s && states.includes(s)) return s;
      if (Date.now() > until) {
        const h = await this.redis.hmget(
          `${this.opts.prefix}:job:${id}`,
          'state',
          'fed',
          'succeeded',
          'failed',
          'running',
          'total',
        );
        throw new Error(
          `job ${id} still ${s} after ${timeoutMs} ms (state, fed, succeeded, failed, running, total = ${h.join(', ')})`,
        );
      }
      await sleep(intervalMs);
    }
  }

  async stop(): Promise<void> {
    const steps: (() => Promise<unknown>)[] = [
      () => Promise.allSettled(this.agents.map((a) => a.stop())),
      () => Promise.allSettled(this.workerChildren.map((c) => c.stop(10_000))),
      async () => this.scheduler?.stop(),
      async () => this.app?.close(),
      () => Promise.allSettled(this.buses.map((b) => b.close())),
      () => this.redis.quit(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        logger.warn({ err }, 'bench harness stop step failed');
      }
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
