import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger, Keys } from '@kumo/shared';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane';
import { waitForEnd } from '../support/faults';
import { client } from '../support/http';
import { waitFor } from '../support/wait';

interface Lease {
  leaseId: string;
  jobId: string;
  index: number;
  attempt: number;
}

/**
 * `POST /v1/workers/complete` with `completions`: one call ends many leases, each answered on its own
 * (held ones ended as the single call ends them, lost and foreign ones refused alone), and the job's
 * counts stay exact. The single form, what every agent before batches sends, is still taken.
 */
describe('batched completions over HTTPS', () => {
  let tcp: TestControlPlane;
  let a: ReturnType<typeof client>;
  let b: ReturnType<typeof client>;
  let redis: Redis;

  beforeAll(async () => {
    tcp = await startTestControlPlane('https-batch', {
      logger: createLogger({ name: 'https-batch', level: 'warn' }),
      localPool: { max: 0 },
      // Long enough that the leases held through the test are still held under load; a lapse is made by hand.
      leaseSeconds: 6,
    });
    // A pool only HTTPS workers serve: no Redis-side agent takes its tasks.
    const pool = { machineType: 'local', gpu: { type: 'none', count: 0 }, spot: false, zones: ['local'], min: 0 };
    expect((await tcp.api.put('/v1/pools/contrib', { ...pool, max: 0 })).status).toBe(201);
    const token = async (name: string): Promise<string> => {
      const t = await tcp.api.post('/v1/tokens', { role: 'worker', name, pool: 'contrib' });
      expect(t.status).toBe(201);
      return t.body.token as string;
    };
    a = client(tcp.cp.url, await token('laptop-a'));
    b = client(tcp.cp.url, await token('laptop-b'));
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await redis.quit();
    await tcp.stop();
  });

  /** Leases until `want` of this job's tasks are held, keeping those held alive meanwhile. */
  const leaseAll = async (jobId: string, want: number): Promise<Lease[]> => {
    const held: Lease[] = [];
    await waitFor(
      async () => {
        if (held.length)
          await a.post('/v1/workers/heartbeat', { workerId: 'laptop-a', leases: held.map((t) => t.leaseId) });
        const r = await a.post('/v1/workers/lease', { workerId: 'laptop-a', pool: 'contrib', max: want - held.length });
        expect(r.status).toBe(200);
        held.push(...(r.body.tasks as Lease[]).filter((t) => t.jobId === jobId));
        return held.length >= want || undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `${want} leases` },
    );
    return held.sort((x, y) => x.index - y.index);
  };

  it('answers each lease on its own: held ones end, lost and foreign ones are refused, the counts stay exact', async () => {
    const sub = await tcp.api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'batched',
      source: { snapshot: 'S', batches: 6 },
      pool: 'contrib',
      run: { builtin: 'noop' },
      retry: { maxAttempts: 3, backoffSeconds: 0 },
    });
    expect(sub.status).toBe(201);
    const jobId = sub.body.id as string;
    const [t0, t1, t2, t3, t4, t5] = await leaseAll(jobId, 6);

    // The single form, as agents before batches send it.
    const single = await a.post('/v1/workers/complete', { leaseId: t0!.leaseId, outcome: 'succeeded' });
    expect(single).toMatchObject({ status: 200, body: { final: true } });

    // t5's lock lapses (as when its worker froze past it): its task goes back to the queue.
    const rec = JSON.parse((await redis.get(new Keys(tcp.prefix).lease(t5!.leaseId)))!) as { lockKey: string };
    expect(await redis.del(rec.lockKey)).toBe(1);

    const never = randomUUID();
    const batch = await a.post('/v1/workers/complete', {
      workerId: 'laptop-a',
      completions: [
        { leaseId: t1!.leaseId, outcome: 'succeeded', result: { docsOut: 1 }, durationMs: 5 },
        { leaseId: t2!.leaseId, outcome: 'released' },
        {
          leaseId: t3!.leaseId,
          outcome: 'failed',
          error: { code: 'TASK_EXIT_NONZERO', message: 'exit 1', retryable: true },
        },
        { leaseId: t0!.leaseId, outcome: 'succeeded' },
        { leaseId: t5!.leaseId, outcome: 'succeeded' },
        { leaseId: never, outcome: 'succeeded' },
      ],
    });
    expect(batch.status).toBe(200);
    const lost = { code: 'CONFLICT', reason: 'LEASE_LOST', retryable: false };
    expect(batch.body.results).toMatchObject([
      { leaseId: t1!.leaseId, ok: true, final: true },
      // Handed back and retried: the task is not final, it comes back.
      { leaseId: t2!.leaseId, ok: true, final: false },
      { leaseId: t3!.leaseId, ok: true, final: false },
      // Ended already by the single call: its lease is over.
      { leaseId: t0!.leaseId, error: lost },
      { leaseId: t5!.leaseId, error: lost },
      { leaseId: never, error: lost },
    ]);

    // Another token's batch cannot end a lease A holds; A's can.
    const foreign = await b.post('/v1/workers/complete', {
      workerId: 'laptop-b',
      completions: [{ leaseId: t4!.leaseId, outcome: 'succeeded' }],
    });
    expect(foreign.status).toBe(200);
    expect(foreign.body.results).toMatchObject([{ leaseId: t4!.leaseId, error: { code: 'FORBIDDEN' } }]);
    // A lease twice in one call is refused whole: the two ends would race.
    const twice = await a.post('/v1/workers/complete', {
      workerId: 'laptop-a',
      completions: [
        { leaseId: t4!.leaseId, outcome: 'succeeded' },
        { leaseId: t4!.leaseId, outcome: 'released' },
      ],
    });
    expect(twice.status).toBe(400);
    const own = await a.post('/v1/workers/complete', {
      workerId: 'laptop-a',
      completions: [{ leaseId: t4!.leaseId, outcome: 'succeeded' }],
    });
    expect(own.body.results).toEqual([{ leaseId: t4!.leaseId, ok: true, final: true }]);

    // The three that went back (handed back, retried, lapsed) come again and end in one call.
    const again = await leaseAll(jobId, 3);
    expect(again.map((t) => t.index)).toEqual([t2!.index, t3!.index, t5!.index]);
    expect(again.find((t) => t.index === t3!.index)?.attempt).toBe(2);
    const last = await a.post('/v1/workers/complete', {
      workerId: 'laptop-a',
      completions: again.map((t) => ({ leaseId: t.leaseId, outcome: 'succeeded' })),
    });
    expect(last.body.results.map((r: { ok?: boolean }) => r.ok)).toEqual([true, true, true]);

    const job = await waitForEnd(tcp.api, jobId, 20_000);
    expect(job.state).toBe('succeeded');
    expect(job.progress).toMatchObject({ total: 6, succeeded: 6, failed: 0, running: 0, queued: 0 });
    const contributors = (await tcp.api.get(`/v1/jobs/${jobId}/contributors`)).body.contributors;
    expect(contributors).toMatchObject([{ worker: 'laptop-a', owner: 'laptop-a', succeeded: 6 }]);
  });
});
