import type { Redis } from 'ioredis';
import { wallClock, type Clock } from '../clock';

/**
 * Upper bounds, in seconds, of the dispatch latency histogram (a task fed to a pool's queue until a
 * worker starts it). Fixed on purpose: changing them splits the series in Prometheus. The feeder keeps a
 * window of a few minutes of work queued, so the tail reaches an hour.
 */
export const DISPATCH_LATENCY_BUCKETS: readonly number[] = [
  0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];

/** The hash field a latency is counted under: its bucket's upper bound, or `+Inf`. */
export function latencyBucketField(seconds: number): string {
  for (const b of DISPATCH_LATENCY_BUCKETS) if (seconds <= b) return String(b);
  return '+Inf';
}

export interface HistogramSnapshot {
  /** Cumulative counts per upper bound, in order, the last one `+Infinity` (Prometheus's `le`). */
  buckets: { le: number; count: number }[];
  sum: number;
  /** The same as the `+Inf` bucket: derived from it, so the two can never disagree. */
  count: number;
}

export interface DispatchLatencyRecorderOptions {
  /** How often buffered samples go to Redis. Default 1000 ms. */
  flushMs?: number;
  clock?: Clock;
  onError?: (err: unknown) => void;
}

/**
 * Counts dispatch latencies in memory and adds them to the pool's Redis hash about once a second, so a
 * worker running thousands of short tasks adds one round trip a second, not one per task. Workers are
 * separate processes (VMs): a Redis-side aggregate is the only way their numbers reach the API's
 * /metrics. A crash loses at most the last second's samples, which a histogram can afford.
 */
export class DispatchLatencyRecorder {
  private buckets = new Map<string, number>();
  private sum = 0;
  private readonly stop = new AbortController();
  /** Started by the first sample, so a recorder that never sees one holds no timer. */
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    /** Keys.metricsDispatchLatency(pool) */
    private readonly key: string,
    private readonly opts: DispatchLatencyRecorderOptions = {},
  ) {}

  observe(seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    // Clocks of the feeder's and the worker's machines differ a little: a negative wait is a zero one.
    const s = Math.max(0, seconds);
    const field = latencyBucketField(s);
    this.buckets.set(field, (this.buckets.get(field) ?? 0) + 1);
    this.sum += s;
    if (!this.loop && !this.stop.signal.aborted) this.loop = this.run();
  }

  /** Sends what is buffered in one MULTI; on failure the samples stay buffered for the next try. */
  async flush(): Promise<void> {
    if (this.buckets.size === 0) return;
    const buckets = this.buckets;
    const sum = this.sum;
    this.buckets = new Map();
    this.sum = 0;
    const tx = this.redis.multi();
    for (const [field, n] of buckets) tx.hincrby(this.key, field, n);
    tx.hincrbyfloat(this.key, 'sum', sum);
    try {
      await tx.exec();
    } catch (err) {
      for (const [field, n] of buckets) this.buckets.set(field, (this.buckets.get(field) ?? 0) + n);
      this.sum += sum;
      throw err;
    }
  }

  private async run(): Promise<void> {
    const clock = this.opts.clock ?? wallClock;
    while (!this.stop.signal.aborted) {
      await clock.sleep(this.opts.flushMs ?? 1000, this.stop.signal);
      try {
        await this.flush();
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
  }

  /** Stops the loop and sends what is left. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stop.abort();
      await this.loop;
      await this.flush();
    })();
    return this.closing;
  }
}

/** The pool's histogram as Prometheus wants it (cumulative), or undefined when nothing was recorded. */
export async function readDispatchLatency(redis: Redis, key: string): Promise<HistogramSnapshot | undefined> {
  const h = await redis.hgetall(key);
  if (Object.keys(h).length === 0) return undefined;
  let cumulative = 0;
  const buckets: HistogramSnapshot['buckets'] = [];
  for (const le of DISPATCH_LATENCY_BUCKETS) {
    cumulative += Number(h[String(le)] ?? 0);
    buckets.push({ le, count: cumulative });
  }
  cumulative += Number(h['+Inf'] ?? 0);
  buckets.push({ le: Number.POSITIVE_INFINITY, count: cumulative });
  return { buckets, sum: Number(h.sum ?? 0), count: cumulative };
}
