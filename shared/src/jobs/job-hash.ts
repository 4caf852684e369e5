import type { ChainableCommander, Redis } from 'ioredis';
import type { Keys } from '../store/keys';
import type { JobState } from './job-state';

// The job hash's schema and the generic typed-view machinery over it, apart from the views themselves
// and the JobRecord they build (job-record.ts).

/**
 * The job hash (`Keys.job`): every field kumo keeps there. Written by the store only (createJob and the
 * job scripts, store/lua, and JobStore's methods); read through the typed views (jobViews, job-record.ts),
 * so no other file names a field of it.
 */
export const JOB_HASH_FIELDS = [
  'id',
  'kind',
  'name',
  'pool',
  'user',
  'state',
  'priority',
  'spec',
  'total',
  'unit',
  'createdAt',
  'fed',
  'succeeded',
  'failed',
  'running',
  'maxFailed',
  'quarantineAfter',
  'costUsd',
  'taskMs',
  'released',
  'maxCostUsd',
  'deps',
  'depsMet',
  'waitingOn',
  'canary',
  /** Where the canary's tasks end, by index, when some tasks are preset (never fed): past its Nth task to run. */
  'canaryEnd',
  'reason',
  'startedAt',
  'finishedAt',
  'checkpoint',
  'liveProgress',
  'skipped',
  'excluded',
  'rerunOf',
  /** The Redis key of the Idempotency-Key that named the job at its submit: its delete frees the key. */
  'idempotencyKey',
] as const;
export type JobHashField = (typeof JOB_HASH_FIELDS)[number];
/** The hash as HGETALL gives it: a field that was never set is absent. */
export type JobHash = Partial<Record<JobHashField, string>>;

/**
 * A typed view of part of the job hash: the fields to HMGET and how to read them. `state` is always
 * among them: every job hash has it, so a reply without it means there is no such job.
 */
export interface JobHashView<T> {
  readonly fields: readonly JobHashField[];
  /** An HMGET of `fields` (alone or from a pipeline); undefined when the job has no hash. */
  parse(values: readonly (string | null | undefined)[] | null | undefined): T | undefined;
  /** One job's view, one round trip. */
  read(redis: Redis, keys: Keys, id: string): Promise<T | undefined>;
  /** Adds the HMGET of one job to a pipeline; parse its reply. */
  queue(pipe: ChainableCommander, keys: Keys, id: string): void;
  /** Many jobs' views, one pipelined round trip; undefined for a job with no hash. */
  readMany(redis: Redis, keys: Keys, ids: readonly string[]): Promise<(T | undefined)[]>;
}

export function jobHashView<const F extends readonly JobHashField[], T>(
  picked: F,
  read: (h: Pick<JobHash, F[number]> & { state: JobState }) => T,
): JobHashView<T> {
  const fields: readonly JobHashField[] = picked.includes('state') ? picked : ['state', ...picked];
  const view: JobHashView<T> = {
    fields,
    parse(values) {
      if (!values) return undefined;
      const h: JobHash = {};
      fields.forEach((f, i) => {
        const v = values[i];
        if (v !== null && v !== undefined) h[f] = v;
      });
      return h.state === undefined ? undefined : read(h as Pick<JobHash, F[number]> & { state: JobState });
    },
    read: async (redis, keys, id) => view.parse(await redis.hmget(keys.job(id), ...fields)),
    queue: (pipe, keys, id) => void pipe.hmget(keys.job(id), ...fields),
    async readMany(redis, keys, ids) {
      if (ids.length === 0) return [];
      const pipe = redis.pipeline();
      for (const id of ids) view.queue(pipe, keys, id);
      const res = (await pipe.exec()) ?? [];
      return ids.map((_, n) => (res[n]?.[0] ? undefined : view.parse(res[n]?.[1] as (string | null)[] | undefined)));
    },
  };
  return view;
}
