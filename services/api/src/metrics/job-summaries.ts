import type { Redis } from 'ioredis';
import { computeProgress, rateBucketFields, type JobState, type Keys, type Progress } from '@kumo/shared';

export interface JobSummary {
  id: string;
  name: string;
  kind: string;
  user: string;
  pool: string;
  state: JobState;
  progress: Progress;
}

const FIELDS = ['name', 'kind', 'user', 'pool', 'state', 'total', 'succeeded', 'failed', 'running', 'unit', 'startedAt', 'finishedAt', 'costUsd'] as const;

/**
 * What the per-job series need, in one pipelined round trip: the job hash's small fields and its rate
 * buckets, through the same computeProgress the API answers with. Not JobStore.getMany: that reads the
 * whole spec too, and a spec listing WARC paths may be near 1 MiB, times every live job, every scrape.
 */
export async function readJobSummaries(redis: Redis, keys: Keys, ids: string[], now: number): Promise<JobSummary[]> {
  if (ids.length === 0) return [];
  const buckets = rateBucketFields(now);
  const pipe = redis.pipeline();
  for (const id of ids) {
    pipe.hmget(keys.job(id), ...FIELDS);
    pipe.hmget(keys.jobRate(id), ...buckets);
  }
  const res = (await pipe.exec()) ?? [];
  const out: JobSummary[] = [];
  ids.forEach((id, n) => {
    const v = res[2 * n]?.[1] as (string | null)[] | undefined;
    const b = (res[2 * n + 1]?.[1] as (string | null)[] | undefined) ?? [];
    if (!v || v[4] === null) return;
    const [name, kind, user, pool, state, total, succeeded, failed, running, unit, startedAt, finishedAt, costUsd] = v;
    out.push({
      id,
      name: name ?? '',
      kind: kind ?? '',
      user: user ?? '',
      pool: pool ?? '',
      state: state as JobState,
      progress: computeProgress({
        total: Number(total ?? 0),
        succeeded: Number(succeeded ?? 0),
        failed: Number(failed ?? 0),
        running: Number(running ?? 0),
        unit: unit ?? 'tasks',
        now,
        ...(startedAt ? { startedAt: Number(startedAt) } : {}),
        ...(finishedAt ? { finishedAt: Number(finishedAt) } : {}),
        buckets: b.map((x) => Number(x ?? 0)),
        costUsd: Number(costUsd ?? 0),
      }),
    });
  });
  return out;
}
