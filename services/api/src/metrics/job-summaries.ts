import type { Redis } from 'ioredis';
import { computeProgress, jobViews, rateBucketFields, type JobState, type Keys, type Progress } from '@kumo/shared';

export interface JobSummary {
  id: string;
  name: string;
  kind: string;
  user: string;
  pool: string;
  state: JobState;
  progress: Progress;
}

/**
 * What the per-job series need, in one pipelined round trip: the job hash's small fields
 * (jobViews.summary) and its rate buckets, through the same computeProgress the API answers with. Not
 * JobStore.getMany: that reads the whole spec too, and a spec listing WARC paths may be near 1 MiB,
 * times every live job, every scrape.
 */
export async function readJobSummaries(redis: Redis, keys: Keys, ids: string[], now: number): Promise<JobSummary[]> {
  if (ids.length === 0) return [];
  const buckets = rateBucketFields(now);
  const pipe = redis.pipeline();
  for (const id of ids) {
    jobViews.summary.queue(pipe, keys, id);
    pipe.hmget(keys.jobRate(id), ...buckets);
  }
  const res = (await pipe.exec()) ?? [];
  const out: JobSummary[] = [];
  ids.forEach((id, n) => {
    const job = jobViews.summary.parse(res[2 * n]?.[1] as (string | null)[] | undefined);
    const b = (res[2 * n + 1]?.[1] as (string | null)[] | undefined) ?? [];
    if (!job) return;
    const { counts, ...small } = job;
    out.push({ id, ...small, progress: computeProgress({ ...counts, now, buckets: b.map((x) => Number(x ?? 0)) }) });
  });
  return out;
}
