import type { Redis } from 'ioredis';
import { jobViews, type JobRecord, type JobStore, type Keys, type ListJobsQuery } from '@kumo/shared';

/** Jobs a filtered `GET /v1/jobs` page looks at, at most; past it the page ends early, with a cursor. */
export const LIST_EXAMINE_MAX = 2000;
/** Ledger indices one `GET /v1/jobs/:id/results` page looks up, at most; likewise. */
export const RESULTS_EXAMINE_MAX = 20_000;
/** A ledger this small is read whole (one HSCAN pass is cheaper than walking a sparse index range). */
const SMALL_LEDGER = 1000;

type Result = { index: number; result: Record<string, unknown> };

/**
 * A page of a job's task ledger (a hash: task index -> what it reported), in index order after
 * `afterIndex`, at a cost of O(page) rather than O(ledger): the indices are walked in windows of HMGET,
 * sized by how full the ledger is, up to RESULTS_EXAMINE_MAX. `nextAfterIndex` null: nothing after.
 * A page may come back short (even empty) with a `nextAfterIndex` when a sparse ledger hit the cap.
 */
export async function resultsPage(
  redis: Redis,
  keys: Keys,
  jobId: string,
  q: { limit: number; afterIndex?: number },
): Promise<{ results: Result[]; nextAfterIndex: number | null }> {
  const key = keys.jobResults(jobId);
  const after = q.afterIndex ?? -1;
  const [counts, size] = await Promise.all([jobViews.counts.read(redis, keys, jobId), redis.hlen(key)]);
  const total = counts?.total ?? 0;
  if (size === 0) return { results: [], nextAfterIndex: null };
  if (size <= SMALL_LEDGER || !Number.isInteger(total) || total <= 0)
    return smallLedgerPage(redis, key, after, q.limit);
  const results: Result[] = [];
  let next = after + 1;
  let examined = 0;
  while (results.length < q.limit && next < total && examined < RESULTS_EXAMINE_MAX) {
    // Expect `size / total` of the indices to hold a result; ask for a quarter more than needed.
    const wanted = Math.ceil(((q.limit - results.length) * total * 1.25) / size);
    const window = Math.min(Math.max(64, wanted), total - next, RESULTS_EXAMINE_MAX - examined);
    const fields = Array.from({ length: window }, (_, n) => String(next + n));
    const values = await redis.hmget(key, ...fields);
    for (let n = 0; n < window && results.length < q.limit; n++) {
      examined++;
      const v = values[n];
      if (v !== null && v !== undefined)
        results.push({ index: next + n, result: JSON.parse(v) as Record<string, unknown> });
    }
    next += window;
  }
  const last = results.length === q.limit ? results[results.length - 1]!.index : after + examined;
  return { results, nextAfterIndex: last >= total - 1 ? null : last };
}

async function smallLedgerPage(
  redis: Redis,
  key: string,
  after: number,
  limit: number,
): Promise<{ results: Result[]; nextAfterIndex: number | null }> {
  const all: Result[] = [];
  let cursor = '0';
  do {
    const [c, flat] = await redis.hscan(key, cursor, 'COUNT', SMALL_LEDGER);
    cursor = c;
    for (let n = 0; n + 1 < flat.length; n += 2) {
      const index = Number(flat[n]);
      if (index > after) all.push({ index, result: JSON.parse(flat[n + 1]!) as Record<string, unknown> });
    }
  } while (cursor !== '0');
  all.sort((a, b) => a.index - b.index);
  const results = all.slice(0, limit);
  return { results, nextAfterIndex: all.length > limit ? results[results.length - 1]!.index : null };
}

/**
 * A page of `GET /v1/jobs`, newest first. Unfiltered it is the store's one read. Filtered, each job
 * looked at costs one HMGET of the fields filtered on (jobViews.listed; whole records for matches only),
 * and at most LIST_EXAMINE_MAX are looked at: a filter that matches little ends its page early with a
 * cursor (the last job looked at) rather than reading every job ever made.
 */
export async function listPage(
  redis: Redis,
  keys: Keys,
  jobs: JobStore,
  q: ListJobsQuery,
): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
  if (!(q.state || q.kind || q.pool || q.user)) return jobs.list(q);
  const matches: string[] = [];
  let max = q.cursor ? `(${q.cursor}` : '+';
  let examined = 0;
  let lastSeen: string | undefined;
  let exhausted = false;
  while (matches.length < q.limit && examined < LIST_EXAMINE_MAX) {
    const chunk = Math.min(LIST_EXAMINE_MAX - examined, Math.max(100, q.limit * 4));
    const ids = await redis.zrevrangebylex(keys.jobsIndex(), max, '-', 'LIMIT', 0, chunk);
    const listed = await jobViews.listed.readMany(redis, keys, ids);
    for (let n = 0; n < ids.length && matches.length < q.limit; n++) {
      examined++;
      lastSeen = ids[n]!;
      const job = listed[n];
      if (job === undefined) continue;
      if (
        (q.state && job.state !== q.state) ||
        (q.kind && job.kind !== q.kind) ||
        (q.pool && job.pool !== q.pool) ||
        (q.user && job.user !== q.user)
      )
        continue;
      matches.push(ids[n]!);
    }
    if (lastSeen) max = `(${lastSeen}`;
    if (ids.length < chunk && matches.length < q.limit) {
      exhausted = true;
      break;
    }
  }
  const records = (await jobs.getMany(matches)).filter((r): r is JobRecord => r !== undefined);
  if (exhausted || lastSeen === undefined) return { jobs: records, nextCursor: null };
  // A full page that ended exactly at the oldest job has nothing after it.
  const more = (await redis.zrevrangebylex(keys.jobsIndex(), max, '-', 'LIMIT', 0, 1)).length > 0;
  return { jobs: records, nextCursor: more ? lastSeen : null };
}
