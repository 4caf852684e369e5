import type { Redis } from 'ioredis';
import { effectivePolicy, taskCount, unitOf } from '../catalog/index';
import type { Clock } from '../clock';
import { KumoError } from '../errors';
import { newJobId } from '../ids';
import type { Keys } from '../store/keys';
import { storeScripts } from '../store/scripts';
import { fingerprintOf, IDEMPOTENCY_TTL_S } from './job-idempotency';
import { copyListing, writeListing } from './job-listing';
import type { CreateJobInput, JobHashField, JobRecord } from './job-record';
import { presetForJob, writePreset } from './task-presets';

// JobStore.create's body: the one write path of a new job (its hash, listing and preset done tasks), apart
// from the store's reads and task-event paths.

/**
 * Creates a job, or returns the one its idempotency key already names. `listing`: a listing job's
 * lines (source.listing, resolved by the API), stored under the new job before its hash exists, so no
 * worker ever sees the job without them; removed again if no job came of this call.
 * `fingerprintOf`: what the idempotency key is bound to (default the spec): the API binds it to the
 * spec as submitted, before its listing was read.
 */
export async function createJob(
  store: { redis: Redis; keys: Keys; clock: Clock; get(id: string): Promise<JobRecord | undefined> },
  input: CreateJobInput,
): Promise<{ job: JobRecord; created: boolean }> {
  const { redis, keys, clock } = store;
  const { spec, user } = input;
  if (input.listing && !(spec.kind === 'extraction' && spec.source.batches === input.listing.length)) {
    throw new KumoError('INTERNAL', 'a listing must come with an extraction spec whose source.batches is its length');
  }
  const now = clock.now();
  const id = newJobId(now);
  const policy = effectivePolicy(spec);
  const specJson = JSON.stringify(spec);
  const fingerprint = fingerprintOf(input.fingerprintOf ?? spec);
  const total = taskCount(spec);
  const { preset, fields: presetFields } = await presetForJob(redis, keys, spec, total, input.rerun);
  const fields: Partial<Record<JobHashField, string | number>> = {
    id,
    kind: spec.kind,
    name: spec.name,
    pool: spec.pool,
    user,
    state: 'queued',
    priority: spec.priority,
    spec: specJson,
    total,
    unit: unitOf(spec),
    createdAt: now,
    fed: 0,
    succeeded: 0,
    failed: 0,
    running: 0,
    maxFailed: policy.maxFailedTasks,
    costUsd: 0,
    quarantineAfter: policy.quarantineAfterWorkers,
    ...(spec.budget ? { maxCostUsd: spec.budget.maxCostUsd } : {}),
    ...(spec.dependsOn?.length ? { deps: JSON.stringify(spec.dependsOn) } : {}),
    ...(spec.canary ? { canary: spec.canary.tasks } : {}),
    ...presetFields,
  };
  const idemKey = input.idempotencyKey ? keys.idempotency(input.idempotencyScope ?? user, input.idempotencyKey) : '';
  if (idemKey) fields.idempotencyKey = idemKey;
  // Written under the new id even when the key may name a job already (the API asks findIdempotent
  // first, so only a concurrent repeat gets here): skipping it on a key about to expire could make a
  // job without its lines. A list that gets no job is deleted below.
  const rerunsListing = input.rerun && spec.kind === 'extraction' && spec.source.listing !== undefined;
  const listingKey = input.listing || rerunsListing ? keys.jobListing(id) : undefined;
  const made = [listingKey ?? [], preset ? keys.jobDone(id) : []].flat();
  let res: [number, string?];
  try {
    if (preset) await writePreset(redis, keys, id, preset);
    if (rerunsListing) await copyListing(redis, keys.jobListing(input.rerun!.jobId), listingKey!);
    else if (listingKey) await writeListing(redis, listingKey, input.listing!);
    res = await storeScripts.createJob.run(
      redis,
      {
        job: keys.job(id),
        jobsIndex: keys.jobsIndex(),
        poolActive: keys.poolActive(spec.pool),
        idempotency: idemKey,
        pool: keys.pool(spec.pool),
      },
      [id, IDEMPOTENCY_TTL_S, fingerprint, ...Object.entries(fields).flat()],
    );
  } catch (err) {
    if (made.length) await redis.del(...made).catch(() => undefined);
    throw err;
  }
  // No job of this id (a refusal, or a concurrent request with the same key won): no listing, no preset either.
  if (res[0] !== 1 && made.length) await redis.del(...made);
  if (res[0] === -2) {
    throw new KumoError(
      'INVALID_INPUT',
      `pool '${spec.pool}' does not exist; create it with PUT /v1/pools/${spec.pool}`,
      {
        issues: [{ path: ['pool'], message: `no pool named '${spec.pool}'` }],
      },
    );
  }
  if (res[0] === -1) {
    throw new KumoError(
      'IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key was already used for another request (job ${res[1]})`,
    );
  }
  const job = await store.get(res[1]!);
  if (!job) throw new KumoError('INTERNAL', 'job vanished right after creation');
  return { job, created: res[0] === 1 };
}
