import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createLogger,
  InMemoryBus,
  JobSpecCache,
  JobStore,
  jobSpecSchema,
  LOCAL_POOL_DEFAULTS,
  PoolStore,
  poolSettingsSchema,
  wallClock,
  type TaskEvent,
} from '@kumo/shared';
import { deleteKeys, testPrefix } from '../../../test/support/prefix';
import { CheckpointEvaluations } from './checkpoint-evaluations';
import { ProgressIngester } from './progress-ingester';

const logger = createLogger({ name: 'test', level: 'silent' });
const prefix = testPrefix('ingest-unit');
let redis: Redis;
let jobs: JobStore;
let pools: PoolStore;

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  jobs = new JobStore(redis, { prefix });
  pools = new PoolStore(redis, { prefix });
  await pools.put('local', poolSettingsSchema.parse(LOCAL_POOL_DEFAULTS));
});
afterAll(async () => {
  await deleteKeys(prefix);
  await redis.quit();
});

describe('ProgressIngester and checkpoints', () => {
  it('starts the evaluations of new checkpoints before recording them, so a failed start is retried on redelivery, not lost', async () => {
    const spec = jobSpecSchema.parse({
      kind: 'training',
      name: 't',
      model: { name: 'm' },
      target: { steps: 1000 },
      checkpoint: { uri: 'gs://b/run' },
      run: { builtin: 'noop' },
      evaluate: { benchmarks: ['b'], run: { builtin: 'noop' } },
    });
    const id = (await jobs.create({ spec, user: 'yuki' })).job.id;
    // One cache of specs, as the scheduler passes it to both; the job's reads through it counted.
    let specReads = 0;
    const specs = new JobSpecCache(
      { runtime: (j) => (specReads++, jobs.runtime(j)), state: (j) => jobs.state(j) },
      { clock: wallClock, stateTtlMs: 0 },
    );
    const evaluations = new CheckpointEvaluations({ jobs, logger, specs });
    let failures = 1;
    const bus = new InMemoryBus();
    const ingester = new ProgressIngester({
      bus,
      jobs,
      pools,
      specs,
      clock: wallClock,
      logger,
      onCheckpoints: async (jobId, user, checkpoints) => {
        // The first start fails as a Redis blip would; the bus delivers the message again.
        if (failures-- > 0) throw new Error('blip');
        await evaluations.onCheckpoints(jobId, user, checkpoints);
      },
    });
    await ingester.start();
    const c = (step: number): TaskEvent => ({
      t: 'c',
      j: id,
      i: 0,
      a: 1,
      w: 'w',
      at: 0,
      data: { step, uri: `gs://b/run/step-${step}` },
    });
    await bus.publish('progress', { workerId: 'w', events: [{ t: 's', j: id, i: 0, a: 1, w: 'w', at: 0 }] });
    expect(specReads).toBe(1); // the ingester's read of the job's pool and user went through the one cache
    await bus.publish('progress', { workerId: 'w', events: [c(100), c(200)] });
    expect((await jobs.evaluations.list(id)).map((e) => e.step)).toEqual([100, 200]);
    expect(await jobs.checkpoint(id)).toMatchObject({ step: 200 });
    expect((await jobs.get(id))?.progress.running).toBe(1);
    // The ingester (pool, user), the checkpoint gate and the evaluations, over both deliveries: one read.
    expect(specReads).toBe(1);
    await ingester.stop();
    await bus.close();
  });
});
