import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@kumo/shared';
import { startTestControlPlane, type TestControlPlane, WORKERLESS_POOL } from '../support/control-plane';
import { waitForEnd } from '../support/faults';
import { client } from '../support/http';
import { waitFor } from '../support/wait';

/**
 * An HTTPS worker that vanishes holding a task (its machine lost, its process killed -9) stops
 * heartbeating; its lease lapses and the task goes back to the queue. That may happen to the same task
 * more than once: each time it is an infrastructure loss, redelivered within the job's
 * `maxInfraRetries`, and failed for good (with an event, so the job's counts add up) past it. BullMQ's
 * own limit on stalls must never decide it: it would fail and delete the task behind kumo's back and
 * leave the job `running: 1` for good.
 */
describe('an HTTPS-leased task whose worker is lost twice', () => {
  let tcp: TestControlPlane;
  let worker: ReturnType<typeof client>;

  beforeAll(async () => {
    // A lease of 3 s: each loss takes seconds, not a minute, and a lease held is still held when it is
    // completed right after, however loaded the machine.
    tcp = await startTestControlPlane('lease-lost', {
      logger: createLogger({ name: 'lease-lost', level: 'warn' }),
      localPool: { max: 0 },
      leaseSeconds: 3,
    });
    // A pool only HTTPS workers serve: no Redis-side agent takes its tasks.
    expect((await tcp.api.put('/v1/pools/contrib', WORKERLESS_POOL)).status).toBe(201);
    const t = await tcp.api.post('/v1/tokens', { role: 'worker', name: 'laptop', pool: 'contrib' });
    expect(t.status).toBe(201);
    worker = client(tcp.cp.url, t.body.token as string);
  });
  afterAll(async () => {
    await tcp.stop();
  });

  const submit = async (maxInfraRetries?: number): Promise<string> => {
    const sub = await tcp.api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'lost-twice',
      source: { snapshot: 'S', batches: 1 },
      pool: 'contrib',
      run: { builtin: 'noop' },
      ...(maxInfraRetries !== undefined ? { retry: { maxInfraRetries } } : {}),
    });
    expect(sub.status).toBe(201);
    return sub.body.id as string;
  };

  /** Leases until this job's task comes (back); the worker then vanishes with it (no heartbeat). */
  const leaseAndVanish = async (jobId: string, what: string): Promise<{ leaseId: string; attempt: number }> =>
    waitFor(
      async () => {
        const r = await worker.post('/v1/workers/lease', { workerId: 'laptop', pool: 'contrib', max: 1 });
        expect(r.status).toBe(200);
        return (r.body.tasks as { jobId: string; leaseId: string; attempt: number }[]).find((t) => t.jobId === jobId);
      },
      { timeoutMs: 30_000, intervalMs: 200, what },
    );

  it('is redelivered, not lost: the job ends succeeded with exact counts', async () => {
    const id = await submit();
    const first = await leaseAndVanish(id, 'the first lease');
    const second = await leaseAndVanish(id, 'the task back after one loss');
    const third = await leaseAndVanish(id, 'the task back after two losses');
    // Losses are the infrastructure's: no attempt used.
    expect([first.attempt, second.attempt, third.attempt]).toEqual([1, 1, 1]);
    expect((await worker.post('/v1/workers/complete', { leaseId: third.leaseId, outcome: 'succeeded' })).status).toBe(
      200,
    );
    const job = await waitForEnd(tcp.api, id, 20_000);
    expect(job.state).toBe('succeeded');
    expect(job.progress).toMatchObject({ total: 1, succeeded: 1, failed: 0, running: 0, queued: 0 });
  });

  it('past maxInfraRetries it fails for good, with an event: the job ends failed, its counts exact', async () => {
    const id = await submit(1);
    await leaseAndVanish(id, 'the first lease');
    await leaseAndVanish(id, 'the task back after one loss');
    // Lost twice, one more than its budget: the next lease call fails it instead of handing it out.
    const job = await waitFor(
      async () => {
        const r = await worker.post('/v1/workers/lease', { workerId: 'laptop', pool: 'contrib', max: 1 });
        expect((r.body.tasks as { jobId: string }[]).some((t) => t.jobId === id)).toBe(false);
        const j = (await tcp.api.get(`/v1/jobs/${id}`)).body;
        return j.state === 'failed' ? j : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the job to fail' },
    );
    expect(job.progress).toMatchObject({ total: 1, succeeded: 0, failed: 1, running: 0, queued: 0 });
    const failures = (await tcp.api.get(`/v1/jobs/${id}/tasks`)).body;
    expect(JSON.stringify(failures)).toContain('INFRA_BUDGET_EXHAUSTED');
  });
});
