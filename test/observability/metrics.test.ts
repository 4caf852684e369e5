import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DISPATCH_LATENCY_BUCKETS } from '@kumo/shared';
import { waitFor } from '../support/wait';
import { startLiveControlPlane, type LiveControlPlane } from './live-control-plane';
import { one, parseProm, pick, type Sample } from './prom-text';

const PROMTOOL_MISSING =
  'promtool is not installed: it comes with the Debian package `prometheus` (apt-get install --no-install-recommends prometheus; .ci/run installs it)';

describe('/metrics on a live control plane with a job running', () => {
  let live: LiveControlPlane;
  let jobId: string;
  let text: string;
  let samples: Sample[];

  beforeAll(async () => {
    live = await startLiveControlPlane(inject('redisUrl'), 'metrics');
    const sub = await live.api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'metrics-sleep',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 3000 },
      pool: 'local',
      run: { builtin: 'sleep', ms: 100 },
    });
    expect(sub.status).toBe(201);
    jobId = sub.body.id;
    // Running, some tasks done, and the worker's first dispatch latencies flushed to Redis (~1 s).
    ({ text, samples } = await waitFor(
      async () => {
        const res = await live.scrape();
        const s = parseProm(res.text);
        const done = pick(s, 'kumo_tasks_finished_total', { pool: 'local', outcome: 'succeeded' })[0]?.value ?? 0;
        const dispatched = pick(s, 'kumo_dispatch_latency_seconds_count', { pool: 'local' })[0]?.value ?? 0;
        return done >= 50 && dispatched >= 50 ? { text: res.text, samples: s } : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the job to run and dispatch latencies to reach /metrics' },
    ));
  });
  afterAll(async () => {
    await live?.stop();
  });

  it('passes `promtool check metrics`', () => {
    const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    expect(probe.error, PROMTOOL_MISSING).toBeUndefined();
    const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${res.stdout}${res.stderr}`.trim(), 'promtool found problems').toBe('');
    expect(res.status).toBe(0);
  });

  it('needs a reader token, and answers in the Prometheus text format', async () => {
    expect((await live.scrape('')).status).toBe(401);
    const ok = await live.scrape();
    expect(ok.status).toBe(200);
    expect(ok.contentType).toContain('text/plain; version=0.0.4');
  });

  it('shows the job by state, its per-job series, and tasks by state that add up', () => {
    expect(one(samples, 'kumo_jobs', { pool: 'local', state: 'running' })).toBe(1);
    expect(one(samples, 'kumo_jobs', { pool: 'local', state: 'succeeded' })).toBe(0);
    expect(
      one(samples, 'kumo_job_info', {
        job_id: jobId,
        name: 'metrics-sleep',
        pool: 'local',
        kind: 'extraction',
        state: 'running',
      }),
    ).toBe(1);
    expect(one(samples, 'kumo_job_total_tasks', { job_id: jobId })).toBe(3000);
    const perState = ['queued', 'running', 'succeeded', 'failed'].map((state) =>
      one(samples, 'kumo_job_tasks', { job_id: jobId, state }),
    );
    expect(perState.reduce((a, b) => a + b, 0)).toBe(3000);
    const pool = ['queued', 'running', 'succeeded', 'failed'].map((state) =>
      one(samples, 'kumo_active_tasks', { pool: 'local', state }),
    );
    expect(pool.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(one(samples, 'kumo_tasks_finished_total', { pool: 'local', outcome: 'succeeded' })).toBeGreaterThanOrEqual(
      50,
    );
    expect(one(samples, 'kumo_tasks_finished_total', { pool: 'local', outcome: 'failed' })).toBe(0);
    // No label named `job`: Prometheus would rename it to exported_job.
    expect(samples.filter((s) => s.name.startsWith('kumo_') && 'job' in s.labels)).toEqual([]);
  });

  it('shows queue depth and age, and a dispatch latency histogram whose buckets add up', () => {
    expect(one(samples, 'kumo_queue_waiting_tasks', { pool: 'local' })).toBeGreaterThan(0);
    expect(one(samples, 'kumo_queue_oldest_waiting_age_seconds', { pool: 'local' })).toBeGreaterThan(0);
    const buckets = pick(samples, 'kumo_dispatch_latency_seconds_bucket', { pool: 'local' });
    expect(buckets.map((b) => b.labels.le)).toEqual([...DISPATCH_LATENCY_BUCKETS.map(String), '+Inf']);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    expect(buckets.at(-1)!.value).toBe(one(samples, 'kumo_dispatch_latency_seconds_count', { pool: 'local' }));
    expect(one(samples, 'kumo_dispatch_latency_seconds_sum', { pool: 'local' })).toBeGreaterThan(0);
  });

  it('shows bus lag per group, VMs by pool, zone and state, the failed create by reason, and spend', () => {
    const lag = one(samples, 'kumo_bus_oldest_unacked_age_seconds', { topic: 'progress', group: 'ingester' });
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(30);
    expect(pick(samples, 'kumo_bus_unacked_messages', { topic: 'fleet', group: 'scheduler' })).toHaveLength(1);
    expect(one(samples, 'kumo_vms', { pool: 'local', zone: 'local', state: 'running' })).toBe(1);
    // The wrapped provider refused the first create: counted once, by its code.
    expect(one(samples, 'kumo_provision_errors_total', { pool: 'local', reason: 'ZONE_RESOURCE_POOL_EXHAUSTED' })).toBe(
      1,
    );
    expect(one(samples, 'kumo_pool_spend_usd_total', { pool: 'local' })).toBeGreaterThanOrEqual(0);
    expect(
      one(samples, 'kumo_worker_slots', { pool: 'local', state: 'busy' }) +
        one(samples, 'kumo_worker_slots', { pool: 'local', state: 'free' }),
    ).toBe(16);
  });

  it('after a cancel: the job counts as cancelled, keeps its series with its final state, and no counter went down', async () => {
    const before = one(samples, 'kumo_tasks_finished_total', { pool: 'local', outcome: 'succeeded' });
    expect((await live.api.post(`/v1/jobs/${jobId}/cancel`)).status).toBe(200);
    const after = parseProm((await live.scrape()).text);
    expect(one(after, 'kumo_jobs', { pool: 'local', state: 'cancelled' })).toBe(1);
    expect(one(after, 'kumo_jobs', { pool: 'local', state: 'running' })).toBe(0);
    expect(one(after, 'kumo_job_info', { job_id: jobId, state: 'cancelled' })).toBe(1);
    expect(one(after, 'kumo_tasks_finished_total', { pool: 'local', outcome: 'succeeded' })).toBeGreaterThanOrEqual(
      before,
    );
  });
});
