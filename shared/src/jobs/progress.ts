/** How far a job has come. Task counts always add up: queued + running + succeeded + failed + skipped = total. */
export interface Progress {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  /** Tasks the spec's `skip` left out: done before the job started, never run. */
  skipped: number;
  unit: string;
  /** (succeeded + failed + skipped) / total, 0..100, one decimal. */
  percent: number;
  /** Tasks finished per minute over the last minute (over the whole run once the job has ended). */
  ratePerMinute: number;
  /** Seconds to finish at that rate; null when there is no rate yet; 0 once finished. */
  etaSeconds: number | null;
  /** The wall-clock time the ETA points at, ISO 8601; null with no ETA. */
  estimatedCompletionAt: string | null;
  /** Spent so far: the tasks' run time at the pool's price per task slot. */
  costUsd: number;
  /** What the job will have cost when done, at the cost per finished task so far; null before one finished. */
  forecastCostUsd: number | null;
}

export const RATE_BUCKET_MS = 5_000;
export const RATE_BUCKETS = 12;

export interface ProgressInputs {
  total: number;
  succeeded: number;
  failed: number;
  running: number;
  /** Done before the job started (its spec's skip); 0 when absent. */
  skipped?: number;
  unit: string;
  now: number;
  startedAt?: number;
  finishedAt?: number;
  /** Finished-task counts of the window's buckets, newest last. */
  buckets: number[];
  costUsd?: number;
}

export function computeProgress(p: ProgressInputs): Progress {
  const done = p.succeeded + p.failed;
  const skipped = p.skipped ?? 0;
  const queued = Math.max(0, p.total - done - p.running - skipped);
  const percent = p.total > 0 ? Math.floor(((done + skipped) / p.total) * 1000) / 10 : 0;
  let ratePerMinute = 0;
  if (p.finishedAt !== undefined && p.startedAt !== undefined) {
    const seconds = Math.max(1, (p.finishedAt - p.startedAt) / 1000);
    ratePerMinute = (done / seconds) * 60;
  } else if (p.startedAt !== undefined) {
    const inWindow = p.buckets.reduce((a, b) => a + b, 0);
    const windowStart = (Math.floor(p.now / RATE_BUCKET_MS) - (RATE_BUCKETS - 1)) * RATE_BUCKET_MS;
    const seconds = Math.max(1, (p.now - Math.max(windowStart, p.startedAt)) / 1000);
    ratePerMinute = (inWindow / seconds) * 60;
  }
  const remaining = p.total - done - skipped;
  let etaSeconds: number | null = null;
  if (p.finishedAt !== undefined) etaSeconds = remaining === 0 ? 0 : null;
  else if (remaining === 0) etaSeconds = 0;
  else if (ratePerMinute > 0) etaSeconds = Math.ceil((remaining / ratePerMinute) * 60);
  return {
    total: p.total,
    queued,
    running: p.running,
    succeeded: p.succeeded,
    failed: p.failed,
    skipped,
    unit: p.unit,
    percent,
    ratePerMinute: Math.round(ratePerMinute * 10) / 10,
    etaSeconds,
    estimatedCompletionAt:
      etaSeconds === null || p.finishedAt !== undefined ? null : new Date(p.now + etaSeconds * 1000).toISOString(),
    costUsd: roundUsd(p.costUsd ?? 0),
    forecastCostUsd: done > 0 ? roundUsd(((p.costUsd ?? 0) / done) * (p.total - skipped)) : null,
  };
}

function roundUsd(usd: number): number {
  return Math.round(usd * 10_000) / 10_000;
}

export function rateBucketFields(now: number): string[] {
  const cur = Math.floor(now / RATE_BUCKET_MS);
  const out: string[] = [];
  for (let b = cur - RATE_BUCKETS + 1; b <= cur; b++) out.push(String(b));
  return out;
}
