import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createLogger,
  JobStore,
  jobSpecSchema,
  LOCAL_POOL_DEFAULTS,
  PoolStore,
  poolSettingsSchema,
  type TaskEvent,
} from '@kumo/shared';
import { deleteKeys, testPrefix } from '../../../test/support/prefix';
import { CheckpointEvaluations, DEFAULT_MAX_EVALUATIONS_PER_JOB } from './checkpoint-evaluations';

const logger = createLogger({ name: 'test', level: 'silent' });
const prefix = testPrefix('ckpt-unit');
let redis: Redis;
let jobs: JobStore;

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'));
  jobs = new JobStore(redis, { prefix });
  await new PoolStore(redis, { prefix }).put('local', poolSettingsSchema.parse(LOCAL_POOL_DEFAULTS));
});
afterAll(async () => {
  await deleteKeys(prefix);
  await redis.quit();
});

const ckpt = (step: number, uri = `gs://b/ckpt-${step}`): TaskEvent => ({
  j: 'x',
  i: 0,
  a: 1,
  w: 'w',
  t: 'c',
  at: 0,
  data: { step, uri },
});

async function training(evaluate?: Record<string, unknown>): Promise<string> {
  const spec = jobSpecSchema.parse({
    kind: 'training',
    name: 't',
    model: { name: 'm' },
    target: { steps: 1000 },
    run: { builtin: 'noop' },
    ...(evaluate ? { evaluate } : {}),
  });
  return (await jobs.create({ spec, user: 'yuki' })).job.id;
}

async function evaluationsOf(trainingId: string): Promise<string[]> {
  const page = await jobs.list({ limit: 1000 });
  const out: string[] = [];
  for (const j of page.jobs) {
    const full = await jobs.get(j.id);
    if (full?.spec.kind === 'evaluation' && full.spec.labels['training-job'] === trainingId)
      out.push(full.spec.labels['checkpoint-step']!);
  }
  return out.sort();
}

describe('CheckpointEvaluations', () => {
  it('starts one evaluation per checkpoint step, however often the event is delivered', async () => {
    const ce = new CheckpointEvaluations({ jobs, logger });
    const id = await training({ benchmarks: ['b'], run: { builtin: 'noop' } });
    await ce.onCheckpoints(id, 'yuki', [ckpt(100)]);
    await ce.onCheckpoints(id, 'yuki', [ckpt(100), ckpt(200)]);
    // Another scheduler (its own instance, no shared memory) seeing the same events.
    await new CheckpointEvaluations({ jobs, logger }).onCheckpoints(id, 'yuki', [ckpt(200)]);
    expect(await evaluationsOf(id)).toEqual(['100', '200']);
    expect(ce.created).toBe(2);
    expect((await jobs.evaluations.list(id)).map((e) => e.step)).toEqual([100, 200]);
  });

  it('keeps the first URI of a step reported again from elsewhere, and starts nothing for a job without evaluate', async () => {
    const ce = new CheckpointEvaluations({ jobs, logger });
    const id = await training({ benchmarks: ['b'], run: { builtin: 'noop' } });
    await ce.onCheckpoints(id, 'yuki', [ckpt(300, 'gs://b/first')]);
    await ce.onCheckpoints(id, 'yuki', [ckpt(300, 'gs://b/second')]);
    expect(await evaluationsOf(id)).toEqual(['300']);
    // A pool that does not exist cannot be retried into existence: nothing started, nothing thrown.
    const elsewhere = await training({ benchmarks: ['b'], run: { builtin: 'noop' }, pool: 'gone' });
    await ce.onCheckpoints(elsewhere, 'yuki', [ckpt(100)]);
    expect(await evaluationsOf(elsewhere)).toEqual([]);
    const plain = await training();
    await ce.onCheckpoints(plain, 'yuki', [ckpt(100)]);
    expect(await evaluationsOf(plain)).toEqual([]);
  });

  it('starts at most maxPerJob evaluations per training job, however many checkpoints it reports, and says so', async () => {
    expect(DEFAULT_MAX_EVALUATIONS_PER_JOB).toBe(100);
    const lines: string[] = [];
    const log = createLogger({ name: 'cap', level: 'warn', destination: { write: (l: string) => void lines.push(l) } });
    const ce = new CheckpointEvaluations({ jobs, logger: log, maxPerJob: 3 });
    const id = await training({ benchmarks: ['b'], run: { builtin: 'noop' } });
    await ce.onCheckpoints(id, 'yuki', [ckpt(100), ckpt(200), ckpt(300), ckpt(400), ckpt(500)]);
    // Redelivered, and seen by a second scheduler: the steps that had a slot keep it, no more start.
    await ce.onCheckpoints(id, 'yuki', [ckpt(300), ckpt(600)]);
    await new CheckpointEvaluations({ jobs, logger, maxPerJob: 3 }).onCheckpoints(id, 'yuki', [ckpt(100), ckpt(700)]);
    expect(await evaluationsOf(id)).toEqual(['100', '200', '300']);
    expect(ce.created).toBe(3);
    expect(ce.refusedForCap).toBe(3);
    // Said once per training job, with its id and the cap in fields.
    const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.trainingJobId === id);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, step: 400, maxEvaluations: 3 });
  });

  it('starts nothing for a step past the target', async () => {
    const ce = new CheckpointEvaluations({ jobs, logger });
    const id = await training({ benchmarks: ['b'], run: { builtin: 'noop' } });
    await ce.onCheckpoints(id, 'yuki', [ckpt(1001), ckpt(5_000_000)]);
    expect(await evaluationsOf(id)).toEqual([]);
  });

  it('skips steps off the everySteps grid, but not the target step', async () => {
    const ce = new CheckpointEvaluations({ jobs, logger });
    const id = await training({ benchmarks: ['b'], run: { builtin: 'noop' }, everySteps: 300 });
    await ce.onCheckpoints(id, 'yuki', [ckpt(100), ckpt(300), ckpt(500), ckpt(600), ckpt(1000)]);
    expect(await evaluationsOf(id)).toEqual(['1000', '300', '600']);
  });
});
