import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys';

/**
 * Who did a job's tasks. Counted by applyTaskEvents (store/lua) at the very points the job's own counts
 * move (a task's first final report; the end of an attempt's run time), one HINCRBY per event into the
 * job's hash and the pool's hash of the day: so each sum equals the job's count exactly, whatever the
 * bus redelivers, and an event costs O(1) whatever the number of tasks or contributors.
 *
 * The team's table across jobs reads the per-pool daily hashes, each kept CONTRIBUTOR_DAYS_KEPT days:
 * at most pools x days x contributors fields, however many jobs ran.
 */
export interface Contributor {
  /** The worker's id (an HTTPS worker's own id, or a kumo worker's). */
  worker: string;
  /** The HTTPS worker's token name, or the pool for kumo's own workers. */
  owner: string;
  succeeded: number;
  failed: number;
  /** Run time of every attempt the worker ended (retried and handed-back ones too), in seconds. */
  taskSeconds: number;
}

/** Days the per-pool daily hashes are kept: how far back GET /v1/contributors?since= can see. */
export const CONTRIBUTOR_DAYS_KEPT = 35;
const DAY_MS = 86_400_000;

/** The UTC day of `ms` as the daily hash names it: yyyymmdd. */
export function contributorDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
}

type Metric = 'succeeded' | 'failed' | 'ms';

/** Folds "<metric>\n<worker>\n<owner>" -> count hashes into one row per worker and owner, most tasks first. */
export function foldContributors(hashes: readonly Record<string, string>[]): Contributor[] {
  const rows = new Map<string, { worker: string; owner: string; succeeded: number; failed: number; ms: number }>();
  for (const h of hashes) {
    for (const [field, value] of Object.entries(h)) {
      const first = field.indexOf('\n');
      const second = field.indexOf('\n', first + 1);
      if (first < 0 || second < 0) continue;
      const metric = field.slice(0, first) as Metric;
      const worker = field.slice(first + 1, second);
      const owner = field.slice(second + 1);
      const id = `${worker}\n${owner}`;
      let row = rows.get(id);
      if (!row) rows.set(id, (row = { worker, owner, succeeded: 0, failed: 0, ms: 0 }));
      if (metric === 'succeeded' || metric === 'failed' || metric === 'ms') row[metric] += Number(value);
    }
  }
  return [...rows.values()]
    .map(({ ms, ...r }) => ({ ...r, taskSeconds: Math.round(ms) / 1000 }))
    .sort(
      (a, b) =>
        b.succeeded + b.failed - (a.succeeded + a.failed) ||
        a.worker.localeCompare(b.worker) ||
        a.owner.localeCompare(b.owner),
    );
}

export class ContributorStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** Who did one job's tasks. */
  async ofJob(jobId: string): Promise<Contributor[]> {
    return foldContributors([await this.redis.hgetall(this.keys.jobContributors(jobId))]);
  }

  /**
   * The team's table: the pools' daily hashes from `since`'s day to `now`'s, at most
   * CONTRIBUTOR_DAYS_KEPT days back (older ones are gone).
   */
  async ofPools(pools: readonly string[], since: number, now: number): Promise<Contributor[]> {
    const from = Math.max(since, now - (CONTRIBUTOR_DAYS_KEPT - 1) * DAY_MS);
    const days: string[] = [];
    for (let t = Math.floor(from / DAY_MS) * DAY_MS; t <= now; t += DAY_MS) days.push(contributorDay(t));
    const pipe = this.redis.pipeline();
    for (const pool of pools) for (const day of days) pipe.hgetall(this.keys.contributorsOfDay(pool, day));
    const res = (await pipe.exec()) ?? [];
    return foldContributors(res.map(([, h]) => (h ?? {}) as Record<string, string>));
  }
}
