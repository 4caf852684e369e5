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

/** The same job, data and options kumo's feeder gives a task, for jobs `from`..`to`-1. */
function rawJobs(
  from: number,
  to: number,
): { name: string; data: TaskData; opts: ReturnType<typeof taskJobOptions> }[] {
  const jobs = [];
  for (let i = from; i < to; i++)
    jobs.push({ name: 'extraction', data: { j: 'raw', i }, opts: taskJobOptions('raw', i, policy) });
  return jobs;
}

/** addBulk of jobs 0..count-1 in chunks of `chunk`, one chunk after another. */
async function addAll(queue: Queue<TaskData>, count: number, chunk: number): Promise<void> {
  for (let from = 0; from < count; from += chunk) await queue.addBulk(rawJobs(from, Math.min(count, from + chunk)));
}

/** Adds `count` jobs with addBulk in chunks of `chunk`; returns the milliseconds it took. */
export async function rawEnqueue(redisUrl: string, prefix: string, count: number, chunk = 1000): Promise<number> {
  const conn = rawConnection(redisUrl);
  const queue = new Queue<TaskData>(RAW_QUEUE, { connection: conn, prefix });
  try {
    await queue.waitUntilReady();
    const t0 = performance.now();
    await addAll(queue, count, chunk);
    return performance.now() - t0;
  } finally {
    await queue.close();
    await conn.quit();
  }
}

/**
 * One Worker, `concurrency` slots, a no-op processor, run until `count` jobs completed; returns ms,
 * timed from the worker's run() (and `during`'s start: adds made inside the timed run) to the last
 * `completed`.
 */
export async function rawProcess(
  redisUrl: string,
  prefix: string,
  count: number,
  concurrency: number,
  timeoutMs: number,
  during?: () => Promise<void>,
): Promise<number> {
  let completed = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const conn = rawConnection(redisUrl);
  const worker = new Worker<TaskData>(RAW_QUEUE, async () => 'ok', {
    connection: conn,
    prefix,
    concurrency,
    autorun: false,
  });
  worker.on('completed', () => {
    if (++completed === count) done();
  });
  worker.on('error', () => undefined);
  await worker.waitUntilReady();
  const t0 = performance.now();
  void worker.run();
  const adding = during?.();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all([finished, adding]),
      new Promise(
        (_, reject) =>
          (timer = setTimeout(
            () => reject(new Error(`raw BullMQ: ${completed} of ${count} after ${timeoutMs} ms`)),
            timeoutMs,
          )),
      ),
    ]);
    return performance.now() - t0;
  } finally {
    clearTimeout(timer);
    await worker.close();
    await conn.quit();
  }
}

/** A producer's queue on its own connection, for adds made while a Worker runs; closed after `use`. */
async function withProducer<T>(
  redisUrl: string,
  prefix: string,
  use: (queue: Queue<TaskData>) => Promise<T>,
): Promise<T> {
  const conn = rawConnection(redisUrl);
  const queue = new Queue<TaskData>(RAW_QUEUE, { connection: conn, prefix });
  try {
    await queue.waitUntilReady();
    return await use(queue);
  } finally {
    await queue.close();
    await conn.quit();
  }
}

/**
 * Raw BullMQ as a user lives it: a Worker (`concurrency` slots) already waiting, then a producer in the
 * same process adds all `count` jobs with addBulk (chunks of `chunk`) as fast as Redis takes them.
 * Timed from the first add to the last `completed`; returns ms. Row 2's baseline.
 */
export async function rawAddedProcess(
  redisUrl: string,
  prefix: string,
  count: number,
  concurrency: number,
  timeoutMs: number,
  chunk = 1000,
): Promise<number> {
  return withProducer(redisUrl, prefix, (queue) =>
    rawProcess(redisUrl, prefix, count, concurrency, timeoutMs, () => addAll(queue, count, chunk)),
  );
}

/**
 * Raw BullMQ with its adds inside the timed run, as kumo's feeder adds inside its own: one Worker
 * (`concurrency` slots) and, in the same process, a producer keeping the queue topped up to `window`
 * jobs with addBulk (checked every 10 ms). Context for row 2, not its baseline: returns ms.
 */
export async function rawFedProcess(
  redisUrl: string,
  prefix: string,
  count: number,
  concurrency: number,
  window: number,
  timeoutMs: number,
): Promise<number> {
  return withProducer(redisUrl, prefix, (queue) =>
    rawProcess(redisUrl, prefix, count, concurrency, timeoutMs, async () => {
      for (let fed = 0; fed < count; await new Promise((r) => setTimeout(r, 10))) {
        const room = window - (await queue.getWaitingCount());
        if (room < window / 4) continue;
        const n = Math.min(room, count - fed);
        await queue.addBulk(rawJobs(fed, fed + n));
        fed += n;
      }
    }),
  );
}
