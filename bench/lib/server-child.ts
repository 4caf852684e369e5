/**
 * A server in its own process, so the load generator (autocannon, SSE clients) does not share its
 * event loop. BENCH_MODE=kumo: the real API (buildApp) on BENCH_REDIS_URL / BENCH_PREFIX.
 * BENCH_MODE=bare: a bare Fastify route GET /v1/jobs/:id returning the JSON in BENCH_BODY_FILE.
 * Prints `LISTENING <port>` once ready; exits on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '@kumo/api';
import { createBus } from '@kumo/shared';
import { apiOptions, logger } from './kumo';

async function main(): Promise<void> {
  const mode = process.env.BENCH_MODE;
  let app: FastifyInstance;
  if (mode === 'kumo') {
    const bus = await createBus({
      kind: 'redis',
      redisUrl: process.env.BENCH_REDIS_URL!,
      prefix: process.env.BENCH_PREFIX!,
      logger,
    });
    app = await buildApp(apiOptions(process.env.BENCH_REDIS_URL!, process.env.BENCH_PREFIX!, bus));
  } else if (mode === 'bare') {
    const body = JSON.parse(readFileSync(process.env.BENCH_BODY_FILE!, 'utf8')) as Record<string, unknown>;
    app = Fastify();
    app.get('/v1/jobs/:id', async () => body);
  } else throw new Error(`BENCH_MODE must be kumo or bare, not ${mode}`);
  // The server's own CPU time, so the bench can report CPU per request (steadier than req/s on a shared machine).
  app.get('/__bench/cpu', async () => process.cpuUsage());
  if (mode === 'kumo' && process.env.BENCH_GET_VARIANT) applyGetVariant(app, process.env.BENCH_GET_VARIANT);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  process.stdout.write(`LISTENING ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
  process.on('SIGTERM', () => {
    void app.close().finally(() => process.exit(0));
  });
}

/**
 * Diagnostics only (bench/explain.ts): runtime overrides that show what a change to the API would buy,
 * without changing the API's source. Only what GET /v1/jobs/:id touches is covered.
 *   scripts  drop BullMQ's scripts from the API's command connection's script table: ioredis copies
 *            every defined script onto each Pipeline it creates, and JobStore.getMany makes one per GET
 *   direct   also: the connection's pipeline() answers with a stand-in that sends HGETALL / HMGET as
 *            plain commands (written back to back, as a pipeline would; a pipeline is not atomic either)
 *   auto     also: ioredis auto-pipelining on that connection (commands of one tick share one write)
 *   coalesce also: concurrent JobStore.get of one id share one read (single flight)
 */
type Reply = [Error | null, unknown];
function applyGetVariant(app: FastifyInstance, variant: string): void {
  const redis = app.kumo.redis as unknown as {
    scriptsSet: Record<string, unknown>;
    pipeline: () => unknown;
    options: { enableAutoPipelining?: boolean };
    hgetall(k: string): Promise<unknown>;
    hmget(k: string, ...f: string[]): Promise<unknown>;
  };
  for (const name of Object.keys(redis.scriptsSet)) if (!name.startsWith('kumo_')) delete redis.scriptsSet[name];
  if (variant === 'scripts') return;
  if (variant === 'auto' || variant === 'coalesce') redis.options.enableAutoPipelining = true;
  if (variant === 'coalesce') {
    const store = app.kumo.jobs as unknown as { get(id: string): Promise<unknown> };
    const get = store.get.bind(store);
    const inFlight = new Map<string, Promise<unknown>>();
    store.get = (id: string) => {
      let p = inFlight.get(id);
      if (!p) {
        p = get(id).finally(() => inFlight.delete(id));
        inFlight.set(id, p);
      }
      return p;
    };
  }
  // Only JobStore's pipelines are replaced (ioredis's own auto-pipelining uses the real one).
  const fakePipeline = (): unknown => {
    const calls: (() => Promise<unknown>)[] = [];
    const p = {
      hgetall: (k: string) => (calls.push(() => redis.hgetall(k)), p),
      hmget: (k: string, ...f: string[]) => (calls.push(() => redis.hmget(k, ...f)), p),
      exec: (): Promise<Reply[]> =>
        Promise.all(
          calls.map((c) =>
            c().then(
              (v): Reply => [null, v],
              (e: Error): Reply => [e, null],
            ),
          ),
        ),
    };
    return p;
  };
  const jobs = app.kumo.jobs as unknown as { redis: object };
  jobs.redis = new Proxy(jobs.redis, {
    get: (target, prop, receiver) => (prop === 'pipeline' ? fakePipeline : Reflect.get(target, prop, receiver)),
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
