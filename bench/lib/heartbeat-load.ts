/**
 * Load for row 8, in its own process: BENCH_WORKERS simulated workers of pool `bench`, each beating
 * (WorkerRegistry.beat, as the agent does, every BENCH_HEARTBEAT_MS) and publishing a small progress
 * batch (the end of its last task and the start of its next) every BENCH_REPORT_MS, for BENCH_SECONDS.
 * Prints `READY` once started and `DONE {json}` with what it did.
 */
import { createBus, WorkerRegistry, type TaskEvent } from '@kumo/shared';
import { Redis } from 'ioredis';
import { logger } from './kumo';

async function main(): Promise<void> {
  const env = process.env;
  const redisUrl = env.BENCH_REDIS_URL!;
  const prefix = env.BENCH_PREFIX!;
  const jobId = env.BENCH_JOB_ID!;
  const workers = Number(env.BENCH_WORKERS ?? 2000);
  const seconds = Number(env.BENCH_SECONDS ?? 10);
  const heartbeatMs = Number(env.BENCH_HEARTBEAT_MS ?? 5000);
  const reportMs = Number(env.BENCH_REPORT_MS ?? 1000);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const registry = new WorkerRegistry(redis, { prefix, ttlMs: 15_000 });
  const bus = await createBus({ kind: 'redis', redisUrl, prefix, logger });
  let beats = 0;
  let batches = 0;
  let events = 0;
  let failures = 0;
  const next = new Array<number>(workers).fill(0);
  const stop = Date.now() + seconds * 1000;
  const t0 = Date.now();
  // Spread evenly: worker w beats at offset w/workers of the period, and reports likewise.
  const ticks: Promise<void>[] = [];
  for (let w = 0; w < workers; w++) {
    const id = `sim-${w}`;
    const beatAt = t0 + (heartbeatMs * w) / workers;
    const reportAt = t0 + (reportMs * w) / workers;
    ticks.push(
      (async () => {
        let nb = beatAt;
        let nr = reportAt;
        while (Date.now() < stop) {
          const now = Date.now();
          if (now >= nb) {
            nb += heartbeatMs;
            registry.beat({ id, pool: 'bench', slots: 1, running: 1, state: 'running' }).then(
              () => beats++,
              () => failures++,
            );
          }
          if (now >= nr) {
            nr += reportMs;
            const i = w * 1_000_000 + next[w]!;
            next[w]!++;
            const batch: TaskEvent[] = [];
            if (i > w * 1_000_000) batch.push({ t: 'ok', j: jobId, i: i - 1, a: 1, w: id, at: now, d: reportMs });
            batch.push({ t: 's', j: jobId, i, a: 1, w: id, at: now });
            bus.publish('progress', { workerId: id, events: batch }).then(
              () => {
                batches++;
                events += batch.length;
              },
              () => failures++,
            );
          }
          await new Promise((r) => setTimeout(r, Math.max(1, Math.min(nb, nr) - Date.now())));
        }
      })(),
    );
  }
  process.stdout.write('READY\n');
  await Promise.all(ticks);
  const elapsed = (Date.now() - t0) / 1000;
  await bus.close();
  await redis.quit();
  process.stdout.write(`DONE ${JSON.stringify({ workers, seconds: elapsed, beats, batches, events, failures })}\n`);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
