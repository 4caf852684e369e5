import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '@kumo/local';
import { startTestControlPlane } from '../support/control-plane';
import { KumoError, type CreateVmRequest, type FleetProvider, type VmInfo } from '@kumo/shared';
import { addsUp, client } from '../support/http';
import { waitFor } from '../support/wait';

/** The local fleet, with a switch that makes every zone of one pool answer "no capacity". */
class StockoutSwitch implements FleetProvider {
  readonly kind = 'local' as const;
  out = new Set<string>();
  attempts: string[] = [];
  constructor(private readonly inner: FleetProvider) {}
  async create(req: CreateVmRequest): Promise<VmInfo> {
    this.attempts.push(`${req.spec.pool}@${req.zone}`);
    if (this.out.has(req.spec.pool))
      throw new KumoError('ZONE_RESOURCE_POOL_EXHAUSTED', `no capacity in ${req.zone}`, {
        details: { zone: req.zone },
      });
    return this.inner.create(req);
  }
  delete(name: string, zone: string): Promise<void> {
    return this.inner.delete(name, zone);
  }
  list(): Promise<VmInfo[]> {
    return this.inner.list();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('autoscaling and money on the local fleet', { timeout: 180_000 }, () => {
  let cp: ControlPlane;
  let api: ReturnType<typeof client>;
  let stockouts!: StockoutSwitch;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ cp, api, stop } = await startTestControlPlane('scale', {
      localPool: { max: 2, slotsPerVm: 4, idleTimeoutSeconds: 2 },
      workerEnv: { LOG_LEVEL: 'warn', KUMO_HEARTBEAT_MS: '500' },
      scaleIntervalMs: 300,
      reconcileIntervalMs: 500,
      stockoutBackoffMs: 1500,
      wrapProvider: (local) => (stockouts = new StockoutSwitch(local)),
    }));
  });
  afterAll(async () => {
    await stop();
  });

  const pool = async (name: string) => (await api.get(`/v1/pools/${name}`)).body;

  it('scales a pool from 0 to its max as a job arrives, back to 0 when idle, never taking a VM from a running task', async () => {
    expect((await pool('local')).vms).toHaveLength(0);
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'scale',
      source: { snapshot: 'S', batches: 40 },
      pool: 'local',
      run: { builtin: 'sleep', ms: 800 },
    });
    let peak = 0;
    const job = await waitFor(
      async () => {
        const p = await pool('local');
        peak = Math.max(peak, p.vms.filter((v: { state: string }) => v.state === 'running').length);
        const j = (await api.get(`/v1/jobs/${sub.body.id}`)).body;
        return j.state === 'succeeded' ? j : undefined;
      },
      { timeoutMs: 60_000, what: 'the job to succeed' },
    );
    expect(peak).toBe(2);
    expect(job.progress).toMatchObject({ total: 40, succeeded: 40, failed: 0 });
    // Scale-down happened while tasks still ran on the other VM: none was handed back.
    expect(job.handBacks).toBe(0);
    const idle = await waitFor(
      async () => {
        const p = await pool('local');
        return p.vms.length === 0 ? p : undefined;
      },
      { timeoutMs: 30_000, what: 'the pool to return to 0' },
    );
    expect(idle.status.desired).toBe(0);
  });

  it('a job with a budget stops taking tasks at it, says so, never overspends, and resumes when raised', async () => {
    // $36/h a VM, 2 slots: a task costs its run time at $18/h ($0.005 a second).
    const put = await api.put('/v1/pools/paid', {
      machineType: 'local',
      gpu: { type: 'none', count: 0 },
      spot: false,
      zones: ['local'],
      min: 0,
      max: 1,
      slotsPerVm: 2,
      idleTimeoutSeconds: 1,
      prices: { onDemandPerHourUsd: 36 },
    });
    expect(put.status).toBe(201);
    const budget = 0.02;
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'budgeted',
      source: { snapshot: 'S', batches: 100 },
      pool: 'paid',
      run: { builtin: 'sleep', ms: 400 },
      budget: { maxCostUsd: budget },
    });
    expect(sub.status).toBe(201);
    // Paused, and settled: the tasks already fed before the pause have finished, nothing new starts.
    const settled = async (): Promise<any> => {
      let last = -1;
      return waitFor(
        async () => {
          const j = (await api.get(`/v1/jobs/${sub.body.id}`)).body;
          expect(addsUp(j.progress)).toBe(true);
          const stable = j.state === 'budget_exhausted' && j.progress.running === 0 && j.progress.succeeded === last;
          last = j.progress.succeeded;
          return stable ? j : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1500, what: 'the job to stop at its budget' },
      );
    };
    const paused = await settled();
    expect(paused.reason).toMatch(/budget of \$0\.02 reached/);
    expect(paused.progress.succeeded).toBeGreaterThan(0);
    expect(paused.progress.succeeded).toBeLessThan(100);
    const vmMinute = 36 / 60;
    expect(paused.costUsd).toBeLessThanOrEqual(budget + vmMinute);
    expect(paused.costUsd).toBeLessThanOrEqual(budget * 1.25);
    expect(paused.forecastCostUsd).toBeGreaterThan(budget);

    const raised = await api.patch(`/v1/jobs/${sub.body.id}`, { budget: { maxCostUsd: 0.04 } });
    expect(raised.status).toBe(200);
    expect(raised.body.budget).toEqual({ maxCostUsd: 0.04 });
    await waitFor(
      async () =>
        (await api.get(`/v1/jobs/${sub.body.id}`)).body.progress.succeeded > paused.progress.succeeded
          ? true
          : undefined,
      { timeoutMs: 90_000, what: 'the job to resume' },
    );
    const more = await settled();
    expect(more.costUsd).toBeLessThanOrEqual(0.04 * 1.25);
    expect((await api.post(`/v1/jobs/${sub.body.id}/cancel`)).status).toBe(200);
  });

  it('a user budget holds all of that user’s jobs, and raising it lets them go on', async () => {
    await api.put('/v1/pools/paid', {
      machineType: 'local',
      gpu: { type: 'none', count: 0 },
      spot: false,
      zones: ['local'],
      min: 0,
      max: 1,
      slotsPerVm: 2,
      idleTimeoutSeconds: 1,
      prices: { onDemandPerHourUsd: 36 },
    });
    const t = (await api.post('/v1/tokens', { role: 'submitter', name: 'yuki' })).body.token as string;
    const yuki = client(cp.url, t);
    expect((await api.put('/v1/users/yuki/budget', { maxCostUsd: 0.03 })).body).toMatchObject({
      name: 'yuki',
      maxCostUsd: 0.03,
      costUsd: 0,
    });
    const ids: string[] = [];
    for (const name of ['a', 'b']) {
      const sub = await yuki.post('/v1/jobs', {
        kind: 'extraction',
        name,
        source: { snapshot: 'S', batches: 100 },
        pool: 'paid',
        run: { builtin: 'sleep', ms: 300 },
      });
      expect(sub.status).toBe(201);
      ids.push(sub.body.id);
    }
    let last = '';
    const held = await waitFor(
      async () => {
        const js = await Promise.all(ids.map(async (id) => (await api.get(`/v1/jobs/${id}`)).body));
        const key = js.map((j) => `${j.state}/${j.progress.running}/${j.progress.succeeded}`).join(',');
        const stable = js.every((j) => j.state === 'budget_exhausted' && j.progress.running === 0) && key === last;
        last = key;
        return stable ? js : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1500, what: "yuki's jobs to stop at her budget" },
    );
    for (const j of held) expect(j.reason).toMatch(/budget of user yuki \(\$0\.03\) reached/);
    const spend = (await api.get('/v1/users/yuki/budget')).body;
    expect(spend.costUsd).toBeGreaterThan(0);
    expect(spend.costUsd).toBeLessThanOrEqual(0.03 * 1.25);
    expect(held.reduce((n, j) => n + j.progress.succeeded, 0)).toBeLessThan(200);
    expect((await yuki.put('/v1/users/yuki/budget', { maxCostUsd: 100 })).status).toBe(403);
    await api.put('/v1/users/yuki/budget', { maxCostUsd: 0.06 });
    const before = held.map((j) => j.progress.succeeded);
    await waitFor(
      async () => {
        const js = await Promise.all(ids.map(async (id) => (await api.get(`/v1/jobs/${id}`)).body));
        return js.every((j, i) => j.progress.succeeded > before[i]!) ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'both jobs to go on' },
    );
    for (const id of ids) await api.post(`/v1/jobs/${id}/cancel`);
  });

  it('a stockout in every zone leaves the job waiting with the reason visible, and it starts when capacity returns', async () => {
    await api.put('/v1/pools/scarce', {
      machineType: 'local',
      gpu: { type: 'none', count: 0 },
      spot: true,
      zones: ['us-central1-a', 'us-central1-b'],
      min: 0,
      max: 1,
      slotsPerVm: 4,
      idleTimeoutSeconds: 1,
    });
    stockouts.out.add('scarce');
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'waits',
      source: { snapshot: 'S', batches: 8 },
      pool: 'scarce',
      run: { builtin: 'noop' },
    });
    const waiting = await waitFor(
      async () => {
        const p = await pool('scarce');
        return p.status?.reasons.some((r: string) => r === 'waiting for capacity in us-central1') ? p : undefined;
      },
      { timeoutMs: 30_000, what: 'the reason on the pool' },
    );
    expect(waiting.vms).toHaveLength(0);
    expect(stockouts.attempts).toEqual(expect.arrayContaining(['scarce@us-central1-a', 'scarce@us-central1-b']));
    expect(stockouts.attempts.indexOf('scarce@us-central1-a')).toBeLessThan(
      stockouts.attempts.indexOf('scarce@us-central1-b'),
    );
    const j = (await api.get(`/v1/jobs/${sub.body.id}`)).body;
    expect(j.state).toBe('queued');
    expect(j.progress).toMatchObject({ queued: 8, failed: 0 });

    stockouts.out.delete('scarce');
    const done = await waitFor(
      async () => {
        const x = (await api.get(`/v1/jobs/${sub.body.id}`)).body;
        return x.state === 'succeeded' ? x : undefined;
      },
      { timeoutMs: 40_000, what: 'the job to run once capacity returned' },
    );
    expect(done.progress).toMatchObject({ succeeded: 8, failed: 0 });
  });
});
