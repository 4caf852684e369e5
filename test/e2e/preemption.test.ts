import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Keys } from '@kumo/shared';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane';
import { addsUp } from '../support/http';
import { waitFor } from '../support/wait';

describe('priority preemption on the local fleet', { timeout: 120_000 }, () => {
  let t: TestControlPlane;
  let redis: Redis;
  beforeAll(async () => {
    t = await startTestControlPlane('preempt');
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await redis.quit();
    await t.stop();
  });

  it('an urgent job takes the slots of a long low-priority one: its tasks are handed back with no attempt used and the counts stay exact', async () => {
    const { api } = t;
    expect(
      (
        await api.put('/v1/pools/shared', {
          machineType: 'local',
          gpu: { type: 'none', count: 0 },
          spot: false,
          zones: ['local'],
          min: 1,
          max: 1,
          slotsPerVm: 2,
          idleTimeoutSeconds: 60,
          preemption: true,
        })
      ).status,
    ).toBeLessThan(300);
    const long = (
      await api.post('/v1/jobs', {
        kind: 'extraction',
        name: 'long',
        priority: 10,
        source: { snapshot: 'S', batches: 40 },
        pool: 'shared',
        run: { builtin: 'sleep', ms: 4000 },
      })
    ).body.id as string;
    await waitFor(async () => ((await api.get(`/v1/jobs/${long}`)).body.progress.running === 2 ? true : undefined), {
      timeoutMs: 60_000,
      what: 'the long job to fill both slots',
    });
    const urgent = (
      await api.post('/v1/jobs', {
        kind: 'evaluation',
        name: 'urgent',
        priority: 90,
        checkpoints: ['c1', 'c2'],
        benchmarks: ['b'],
        pool: 'shared',
        run: { builtin: 'sleep', ms: 300 },
      })
    ).body;
    expect(urgent.progress.total).toBeGreaterThan(0);
    const done = await waitFor(
      async () => {
        const j = (await api.get(`/v1/jobs/${urgent.id}`)).body;
        return j.state === 'succeeded' ? j : undefined;
      },
      { timeoutMs: 20_000, what: 'the urgent job to finish while the long one still runs' },
    );
    expect(done.progress).toMatchObject({ failed: 0 });
    const l = (await api.get(`/v1/jobs/${long}`)).body;
    // Not waited out: the long job's 4 s tasks were stopped for it, and went back to the queue.
    expect(l.progress.succeeded).toBeLessThan(40);
    expect(l.handBacks).toBeGreaterThan(0);
    expect(l.progress.failed).toBe(0);
    expect(addsUp(l.progress)).toBe(true);
    // No attempt used: every task of the long job still on its first attempt in BullMQ.
    const keys = new Keys(t.prefix);
    const entries = await redis.keys(`${keys.queuePrefix()}:*:${long}.*`);
    const attempts = await Promise.all(entries.filter((k) => /\.\d+$/.test(k)).map((k) => redis.hget(k, 'atm')));
    expect(attempts.every((a) => a === null || a === '0')).toBe(true);
    await api.post(`/v1/jobs/${long}/cancel`);
  });
});
