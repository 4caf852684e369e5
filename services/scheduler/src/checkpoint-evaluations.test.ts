import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger, JobStore, jobSpecSchema, LOCAL_POOL_DEFAULTS, PoolStore, poolSettingsSchema, type TaskEvent } from '@kumo/shared';
import { deleteKeys, testPrefix } from '../../../test/support/prefix';
import { CheckpointEvaluations } from './checkpoint-evaluations';

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

const ckpt = (step: number, uri = `gs://b/ckpt-${step}`): TaskEvent => ({ j: 'x', i: 0, a: 1, w: 'w', t: 'c', at: 0, data: { step, uri } });

async function training(evaluate?: Record<string, unknown>): Promise<string> {
  const spec = jobSpecSchema.parse({ kind: 'training', name: 't', model: { name: 'm' }, target: { steps: 1000 }, run: { builtin: 'noop' }, ...(evaluate ? { evaluate } : {}) });
  return (await jobs.create({ spec, user: 'yuki' })).job.id;
}

async function evaluationsOf(trainingId: string): Promise<string[]> {
  const page = await jobs.list({ limit: 1000 });
  const out: string[] = [];
  for (const j of page.jobs) {
    const full = await jobs.get(j.id);
    if (full?.spec.kind === 'evaluation' && full.spec.labels['training-job'] === trainingId) out.push(full.spec.labels['checkpoint-step']!);
  }
  return out.sort();
}

describe('CheckpointEvaluations', () => {
  it('starts one evaluation per checkpoint step, however often the event is delivered', async () => {
    const ce = new CheckpointEvaluations({ jobs, logger });
    const id = await training({ benchmarks: ['b'], run: { builtin: 'noop' } });
    await ce.onApplied(id, 'yuki', [ckpt(100)]);
    await ce.onApplied(id, 'yuki', [ckpt(100), ckpt(200)]);
    // Another scheduler (its own instance, no shared memory) seeing the same events.
    await new CheckpointEvaluations({ jobs, logger }).onApplied(id, 'yuki', [ckpt(200)]);
    expect(await evaluationsOf(id)).toEqual(['100', '200']);
    expect(ce.created).toBe(2);
    expect((await jobs.evaluations(id)).map((e) => e.step)).toEqual([100, 200]);
  });

  it('keeps the first URI of a step reported again from elsewhere, and starts nothing for a job without evaluate', async () => {
    const ce = new CheckpointEvaluations({ jobs, logger });
    const id = await training({ benchmarks: ['b'], run: { builtin: 'noop' } });
    await ce.onApplied(id, 'yuki', [ckpt(300, 'gs://b/first')]);
    await ce.onApplied(id, 'yuki', [ckpt(300, 'gs://b/second')]);
    expect(await evaluationsOf(id)).toEqual(['300']);
    // A pool that does not exist cannot be retried into existence: nothing started, nothing thrown.
    const elsewhere = await training({ benchmarks: ['b'], run: { builtin: 'noop' }, pool: 'gone' });
    await ce.onApplied(elsewhere, 'yuki', [ckpt(100)]);
    expect(await evaluationsOf(elsewhere)).toEqual([]);
    const plain = await training();
    await ce.onApplied(plain, 'yuki', [ckpt(100)]);
    expect(await evaluationsOf(plain)).toEqual([]);
  });

  it('skips steps off the everySteps grid, but not the target step', async () => {
    const ce = new CheckpointEvaluations({ jobs, logger });
    const id = await training({ benchmarks: ['b'], run: { builtin: 'noop' }, everySteps: 300 });
    await ce.onApplied(id, 'yuki', [ckpt(100), ckpt(300), ckpt(500), ckpt(600), ckpt(1000)]);
    expect(await evaluationsOf(id)).toEqual(['1000', '300', '600']);
  });
});
