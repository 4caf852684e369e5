import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { effectivePolicy, jobSpecSchema, taskJobOptions, type TaskData } from '@kumo/shared';
import { noopSpec } from './kumo';

/**
 * Plain BullMQ doing the same work kumo asks of it: one job per task, with the same tiny data and the
 * same options kumo's feeder gives a task (custom id, attempts, backoff, removeOnComplete/Fail).
 */
export const RAW_QUEUE = 'raw-bench';
const policy = effectivePolicy(jobSpecSchema.parse(noopSpec(1)));

export function rawConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, connectionName: 'raw-bullmq' });
}

/** Adds `count` jobs with addBulk in chunks of `chunk`; returns the milliseconds it took. */
export async function rawEnqueue(redisUrl: string, prefix: string, count: number, chunk = 1000): Promise<number> {
  const conn = rawConnection(redisUrl);
  const queue = new Queue<TaskData>(RAW_QUEUE, { connection: conn, prefix });
  try {
    await queue.waitUntilReady();
    const t0 = performance.now();
    for (let from = 0; from < count; from += chunk) {
      const jobs = [];
      for (let i = from; i < Math.min(count, from + chunk); i++) jobs.push({ name: 'extraction', data: { j: 'raw', i }, opts: taskJobOptions('raw', i, policy) });
      await queue.addBulk(jobs);
    }
    return performance.now() - t0;
  } finally {
    await queue.close();
    await conn.quit();
  }
}

/** One Worker, `concurrency` slots, a no-op processor, run until `count` jobs completed; returns ms. */
export async function rawProcess(redisUrl: string, prefix: string, count: number, concurrency: number, timeoutMs: number): Promise<number> {
  let completed = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const conn = rawConnection(redisUrl);
  const worker = new Worker<TaskData>(RAW_QUEUE, async () => 'ok', { connection: conn, prefix, concurrency, autorun: false });
  worker.on('completed', () => {
    if (++completed === count) done();
  });
  worker.on('error', () => undefined);
  await worker.waitUntilReady();
  const t0 = performance.now();
  void worker.run();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      finished,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`raw BullMQ: ${completed} of ${count} after ${timeoutMs} ms`)), timeoutMs))),
    ]);
    return performance.now() - t0;
  } finally {
    clearTimeout(timer);
    await worker.close();
    await conn.quit();
  }
}

/**
 * Raw BullMQ with its adds inside the timed run, as kumo's feeder adds inside its own: one Worker
 * (`concurrency` slots) and, in the same process, a producer keeping the queue topped up to `window`
 * jobs with addBulk (checked every 10 ms). Context for row 2, not its baseline: returns ms.
 */
export async function rawFedProcess(redisUrl: string, prefix: string, count: number, concurrency: number, window: number, timeoutMs: number): Promise<number> {
  const producerConn = rawConnection(redisUrl);
  const queue = new Queue<TaskData>(RAW_QUEUE, { connection: producerConn, prefix });
  await queue.waitUntilReady();
  let fed = 0;
  let stop = false;
  const producer = (async () => {
    while (!stop && fed < count) {
      const room = window - (await queue.getWaitingCount());
      if (room >= window / 4) {
        const n = Math.min(room, count - fed);
        const jobs = [];
        for (let i = fed; i < fed + n; i++) jobs.push({ name: 'extraction', data: { j: 'raw', i }, opts: taskJobOptions('raw', i, policy) });
        await queue.addBulk(jobs);
        fed += n;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    return await rawProcess(redisUrl, prefix, count, concurrency, timeoutMs);
  } finally {
    stop = true;
    await producer;
    await queue.close();
    await producerConn.quit();
  }
}
