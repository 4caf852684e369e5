import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createBus, createLogger, Keys, queueName, type Bus, type TaskEvent } from '@kumo/shared';
import type { ControlPlane } from '@kumo/local';
import { startTestControlPlane } from '../support/control-plane';
import { client } from '../support/http';
import { waitFor } from '../support/wait';

/**
 * What a worker reports is task output, and any submitter's code prints it: a checkpoint moves a job
 * only forward and within its spec, evaluations started from checkpoints are capped, and a worker
 * token reaches no other pool's jobs. Reported the two ways workers report: over HTTPS (a
 * contributor's worker, through the lease broker) and on the bus (a Redis-side agent).
 */

const LOCATION = 'gs://kumo-ckpt/runs/ja';
const POOL = { machineType: 'local', gpu: { type: 'none', count: 0 }, spot: false, zones: ['local'], min: 0, max: 0 };
const lines: string[] = [];
const logger = createLogger({
  name: 'worker-reports',
  level: 'warn',
  destination: { write: (l: string) => void lines.push(l) },
});

type Api = ReturnType<typeof client>;
interface Lease {
  leaseId: string;
  jobId: string;
  index: number;
}

describe('what a worker reports is checked', () => {
  let cp: ControlPlane;
  let api: Api;
  let prefix: string;
  let stop: () => Promise<void>;
  let worker: Api;
  let bus: Bus;

  beforeAll(async () => {
    ({ cp, api, prefix, stop } = await startTestControlPlane('wreports', {
      logger,
      localPool: { max: 0 },
      leaseSeconds: 60,
    }));
    for (const pool of ['train', 'evals']) expect((await api.put(`/v1/pools/${pool}`, POOL)).status).toBe(201);
    const t = await api.post('/v1/tokens', { role: 'worker', name: 'contrib', pool: 'train' });
    expect(t.status).toBe(201);
    worker = client(cp.url, t.body.token as string);
    bus = await createBus({ kind: 'redis', redisUrl: inject('redisUrl'), prefix, logger });
  });
  afterAll(async () => {
    await bus?.close();
    await stop?.();
  });

  const logged = (msg: string, fields: Record<string, unknown>): Record<string, unknown>[] =>
    lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));

  async function training(spec: Record<string, unknown> = {}): Promise<string> {
    const res = await api.post('/v1/jobs', {
      kind: 'training',
      name: 'ja-1b',
      pool: 'train',
      model: { name: 'ja-1b' },
      target: { steps: 1000 },
      checkpoint: { uri: LOCATION },
      run: { builtin: 'noop' },
      evaluate: { benchmarks: ['jglue'], everySteps: 100, pool: 'evals', run: { builtin: 'noop' } },
      ...spec,
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  async function leaseOf(jobId: string): Promise<Lease> {
    return waitFor(
      async () => {
        const r = await worker.post('/v1/workers/lease', { workerId: 'contrib', pool: 'train', max: 1 });
        const task = (r.body.tasks as Lease[] | undefined)?.[0];
        if (task && task.jobId !== jobId)
          await worker.post('/v1/workers/complete', { leaseId: task.leaseId, outcome: 'released' });
        return task?.jobId === jobId ? task : undefined;
      },
      { timeoutMs: 20_000, what: `a lease of ${jobId}` },
    );
  }

  async function report(lease: Lease, checkpoint: Record<string, unknown>): Promise<void> {
    expect((await worker.post('/v1/workers/progress', { leaseId: lease.leaseId, checkpoint })).status).toBe(204);
  }

  const recordedStep = async (id: string): Promise<number | undefined> =>
    (await api.get(`/v1/jobs/${id}`)).body.checkpoint?.step as number | undefined;
  const evaluatedSteps = async (id: string): Promise<number[]> =>
    ((await api.get(`/v1/jobs/${id}/evaluations`)).body.evaluations as { step: number }[]).map((e) => e.step);

  /** Until the checkpoint at `step` was refused (a warning) or, as before these checks, recorded. */
  const settled = (id: string, step: number): Promise<unknown> =>
    waitFor(
      async () => logged('checkpoint refused', { jobId: id, step }).length > 0 || (await recordedStep(id)) === step,
      { timeoutMs: 20_000, what: `checkpoint ${step} of ${id} handled` },
    );

  it('a checkpoint only moves forward: one behind the record is ignored and starts no evaluation', async () => {
    const id = await training();
    const lease = await leaseOf(id);
    await report(lease, { step: 300, uri: `${LOCATION}/step-300` });
    await waitFor(async () => (await evaluatedSteps(id)).includes(300), { what: 'the evaluation of step 300' });
    // Behind the record (a stale attempt): ignored; then forward again, with a pool the worker would like.
    await report(lease, { step: 200, uri: `${LOCATION}/step-200` });
    await report(lease, { step: 400, uri: `${LOCATION}/step-400`, pool: 'train' });
    await waitFor(async () => (await recordedStep(id)) === 400 && (await evaluatedSteps(id)).includes(400), {
      what: 'step 400 recorded and evaluated',
    });
    expect(await evaluatedSteps(id)).toEqual([300, 400]);
    // What the reports started runs where the submitter said (evaluate.pool), whatever a report carries.
    const user = (await api.get(`/v1/jobs/${id}`)).body.user as string;
    for (const e of (await api.get(`/v1/jobs/${id}/evaluations`)).body.evaluations as { jobId: string }[]) {
      expect((await api.get(`/v1/jobs/${e.jobId}`)).body).toMatchObject({ pool: 'evals', user });
    }
    await worker.post('/v1/workers/complete', { leaseId: lease.leaseId, outcome: 'succeeded' });
  });

  it('a checkpoint never goes past target.steps: refused with a warning that names the job, the task and the worker', async () => {
    const id = await training();
    const lease = await leaseOf(id);
    await report(lease, { step: 400, uri: `${LOCATION}/step-400` });
    await waitFor(async () => (await recordedStep(id)) === 400, { what: 'step 400 recorded' });
    await report(lease, { step: 5_000_000, uri: `${LOCATION}/step-5000000` });
    await settled(id, 5_000_000);
    expect(await recordedStep(id)).toBe(400);
    expect(await evaluatedSteps(id)).toEqual([400]);
    expect(logged('checkpoint refused', { jobId: id, step: 5_000_000 })[0]).toMatchObject({
      reason: 'STEP_PAST_TARGET',
      index: lease.index,
      attempt: 1,
      workerId: 'contrib',
    });
    await worker.post('/v1/workers/complete', { leaseId: lease.leaseId, outcome: 'succeeded' });
  });

  it("a checkpoint's uri must lie under the job's checkpoint location: the spec's, or a worker's folder of this job", async () => {
    const id = await training();
    const lease = await leaseOf(id);
    const outside = [
      `${LOCATION}/../other-run/step-100`,
      `${LOCATION}/%2e%2e/other-run/step-100`,
      `${LOCATION}-other/step-100`,
      'gs://other-bucket/runs/ja/step-100',
      '/etc/passwd',
    ];
    for (const [n, uri] of outside.entries()) {
      await report(lease, { step: 100 + n, uri });
      await settled(id, 100 + n);
    }
    expect(await recordedStep(id)).toBeUndefined();
    expect(logged('checkpoint refused', { jobId: id, reason: 'URI_OUTSIDE_LOCATION' })).toHaveLength(outside.length);
    await report(lease, { step: 200, uri: `${LOCATION}/step-200` });
    await waitFor(async () => (await recordedStep(id)) === 200, { what: 'step 200 recorded' });
    expect(await evaluatedSteps(id)).toEqual([200]);
    await worker.post('/v1/workers/complete', { leaseId: lease.leaseId, outcome: 'succeeded' });

    // No checkpoint.uri: the worker writes under its own artifacts folder, in jobs/<id>/checkpoints.
    const plain = await training({ checkpoint: {}, evaluate: undefined });
    const mine = await leaseOf(plain);
    const dir = `/home/contrib/.kumo/artifacts/jobs/${plain}/checkpoints`;
    for (const [n, uri] of [
      `/home/contrib/.kumo/artifacts/jobs/${id}/checkpoints/step-100`,
      `${dir}/../../../../admin-token`,
      `file://${dir}/%2e%2e/x`,
    ].entries()) {
      await report(mine, { step: 10 + n, uri });
      await settled(plain, 10 + n);
    }
    expect(await recordedStep(plain)).toBeUndefined();
    await report(mine, { step: 20, uri: `${dir}/step-20` });
    await waitFor(async () => (await recordedStep(plain)) === 20, { what: 'step 20 recorded' });
    await worker.post('/v1/workers/complete', { leaseId: mine.leaseId, outcome: 'succeeded' });
  });

  it('evaluations started per training job are capped (100 by default), and the cap is said', async () => {
    const id = await training({ evaluate: { benchmarks: ['jglue'], pool: 'evals', run: { builtin: 'noop' } } });
    // A Redis-side agent's report on the bus: 150 checkpoints, each a step forward and under the location.
    const events: TaskEvent[] = Array.from({ length: 150 }, (_, n) => ({
      t: 'c',
      j: id,
      i: 0,
      a: 1,
      w: 'rogue',
      at: Date.now(),
      data: { step: n + 1, uri: `${LOCATION}/step-${n + 1}` },
    }));
    await bus.publish('progress', { workerId: 'rogue', events });
    const capped = (): Record<string, unknown>[] =>
      logged('evaluation of a checkpoint not started: the training job has started its most evaluation jobs', {
        trainingJobId: id,
      });
    await waitFor(async () => capped().length > 0 || (await evaluatedSteps(id)).length > 100, {
      timeoutMs: 60_000,
      what: 'the cap, or a 101st evaluation',
    });
    await waitFor(async () => (await recordedStep(id)) === 150, {
      timeoutMs: 60_000,
      what: 'the checkpoints to be recorded',
    });
    expect((await evaluatedSteps(id)).length).toBe(100);
    expect(capped()).toHaveLength(1);
    expect(capped()[0]).toMatchObject({ maxEvaluations: 100, step: 101 });
  });

  it("a worker token takes no other pool's job, even one put in its pool's queue", async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'elsewhere',
      pool: 'evals',
      source: { snapshot: 'S', batches: 1 },
      run: { builtin: 'noop' },
    });
    expect(sub.status).toBe(201);
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const queue = new Queue(queueName('train'), { connection: redis, prefix: new Keys(prefix).queuePrefix() });
    try {
      await queue.add('task', { j: sub.body.id as string, i: 0 }, { jobId: 'misrouted' });
      const got: Lease[] = [];
      await waitFor(
        async () => {
          const r = await worker.post('/v1/workers/lease', { workerId: 'contrib', pool: 'train', max: 8 });
          got.push(...((r.body.tasks as Lease[] | undefined) ?? []));
          return (
            got.length > 0 || logged('a task of another pool in this queue, dropped', { jobId: sub.body.id }).length > 0
          );
        },
        { what: 'the misrouted entry to be taken' },
      );
      expect(got.map((t) => t.jobId)).not.toContain(sub.body.id);
      expect(
        logged('a task of another pool in this queue, dropped', {
          jobId: sub.body.id,
          pool: 'train',
          jobPool: 'evals',
        }),
      ).toHaveLength(1);
      expect((await api.get(`/v1/jobs/${sub.body.id}`)).body.progress).toMatchObject({ running: 0, succeeded: 0 });
    } finally {
      await queue.close();
      await redis.quit();
    }
  });
});
