import type { Redis } from 'ioredis';
import type { Keys } from '../store/keys';
import type { JobRecord, ListJobsQuery } from './job-record';

/**
 * A page of jobs, newest first (the jobs index is ordered by id, and ids by time). Without filters a
 * page is one read; with filters the index is read ahead in chunks until the page is full, at most 50
 * chunks, so a rare filter cannot make one request read the whole index.
 */
export async function listJobs(
  store: { redis: Redis; keys: Keys; getMany(ids: string[]): Promise<(JobRecord | undefined)[]> },
  q: ListJobsQuery,
): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
  const { redis, keys } = store;
  const jobs: JobRecord[] = [];
  let max = q.cursor ? `(${q.cursor}` : '+';
  const filtered = q.state || q.kind || q.pool || q.user;
  // Newest first. Without filters a page is one read; with filters, read ahead in chunks until full.
  for (let round = 0; round < 50 && jobs.length < q.limit; round++) {
    const chunk = filtered ? Math.max(100, q.limit * 4) : q.limit;
    const ids = await redis.zrevrangebylex(keys.jobsIndex(), max, '-', 'LIMIT', 0, chunk);
    if (ids.length === 0) return { jobs, nextCursor: null };
    const recs = await store.getMany(ids);
    for (let n = 0; n < ids.length; n++) {
      const r = recs[n];
      max = `(${ids[n]}`;
      if (!r) continue;
      if (q.state && r.state !== q.state) continue;
      if (q.kind && r.kind !== q.kind) continue;
      if (q.pool && r.pool !== q.pool) continue;
      if (q.user && r.user !== q.user) continue;
      jobs.push(r);
      if (jobs.length === q.limit) {
        const more =
          n < ids.length - 1 || (await redis.zrevrangebylex(keys.jobsIndex(), max, '-', 'LIMIT', 0, 1)).length > 0;
        return { jobs, nextCursor: more ? r.id : null };
      }
    }
    if (ids.length < chunk) return { jobs, nextCursor: null };
  }
  return { jobs, nextCursor: jobs.length > 0 ? jobs[jobs.length - 1]!.id : null };
}
