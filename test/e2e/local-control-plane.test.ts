import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '@kumo/local';
import { startTestControlPlane } from '../support/control-plane';
import { addsUp, client } from '../support/http';
import { waitFor } from '../support/wait';

const TOKEN = 'e2e-admin-token-0123456789';

const artifacts = mkdtempSync(join(tmpdir(), 'kumo-e2e-artifacts-'));

describe('the local control plane, end to end', () => {
  let cp: ControlPlane;
  let api: ReturnType<typeof client>;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ cp, api, stop } = await startTestControlPlane('e2e', {
      localPool: { max: 2, slotsPerVm: 16, idleTimeoutSeconds: 2 },
      workerEnv: { LOG_LEVEL: 'warn', KUMO_DRAIN_MS: '2000', KUMO_ARTIFACTS_DIR: artifacts },
    }));
  });
  afterAll(async () => {
    await stop();
  });

  it('runs a 3,000-batch noop job to succeeded, with counts that add up at every poll', async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'e2e-noop',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 3000 },
      pool: 'local',
      run: { builtin: 'noop' },
    });
    expect(sub.status).toBe(201);
    const seen: string[] = [];
    const done = await waitFor(
      async () => {
        const j = (await api.get(`/v1/jobs/${sub.body.id}`)).body;
        expect(addsUp(j.progress), JSON.stringify(j.progress)).toBe(true);
        if (seen.at(-1) !== j.state) seen.push(j.state);
        return j.state === 'succeeded' ? j : undefined;
      },
      { timeoutMs: 90_000, what: 'the job to succeed' },
    );
    expect(done.progress).toMatchObject({
      total: 3000,
      succeeded: 3000,
      failed: 0,
      queued: 0,
      running: 0,
      etaSeconds: 0,
    });
    expect(done.progress.ratePerMinute).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe('succeeded');
    expect(seen.filter((s) => s === 'succeeded')).toHaveLength(1);
  });

  it('retries a failing command up to maxAttempts, then fails the job with the error and log tail visible', async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'e2e-fails',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 1 },
      pool: 'local',
      retry: { maxAttempts: 2, backoffSeconds: 0 },
      run: {
        command: [
          'sh',
          '-c',
          'echo "reading $KUMO_TASK_INPUTS attempt $KUMO_TASK_ATTEMPT"; echo "cannot parse WARC" >&2; exit 3',
        ],
      },
    });
    expect(sub.status).toBe(201);
    const job = await waitFor(
      async () => {
        const j = (await api.get(`/v1/jobs/${sub.body.id}`)).body;
        return j.state === 'failed' ? j : undefined;
      },
      { timeoutMs: 60_000, what: 'the job to fail' },
    );
    expect(job.reason).toBe('TOO_MANY_FAILED_TASKS');
    expect(job.progress).toMatchObject({ total: 1, failed: 1, succeeded: 0, running: 0, queued: 0 });
    const tasks = (await api.get(`/v1/jobs/${sub.body.id}/tasks`)).body.tasks;
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      index: 0,
      attempt: 2,
      final: true,
      error: { code: 'TASK_EXIT_NONZERO', message: 'task exited with code 3' },
    });
    expect(tasks[0].logTail).toContain('cannot parse WARC');
    expect(tasks[0].logTail).toContain('["CC-MAIN-2023-50/batch-0"] attempt 2');
    // Each attempt's log is kept in the artifact store (a local folder here; a GCS bucket on GCP), and served whole.
    for (const attempt of [1, 2]) {
      expect(
        readdirSync(join(artifacts, 'jobs', sub.body.id, 'tasks', '0', `attempt-${attempt}`)).length,
      ).toBeGreaterThan(0);
      const log = await fetch(`${cp.url}/v1/jobs/${sub.body.id}/tasks/0/log?attempt=${attempt}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(log.status).toBe(200);
      expect(await log.text()).toContain(`attempt ${attempt}`);
    }
  });

  it('a job whose policy tolerates failures ends succeeded with its failed count', async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'cleaning',
      name: 'e2e-tolerant',
      input: { count: 6, prefix: 'shard-' },
      pool: 'local',
      retry: { maxAttempts: 1 },
      failurePolicy: { maxFailedTasks: 3 },
      run: { command: ['sh', '-c', 'test $((KUMO_TASK_INDEX % 3)) -ne 0'] },
    });
    const job = await waitFor(
      async () => {
        const j = (await api.get(`/v1/jobs/${sub.body.id}`)).body;
        return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
      },
      { timeoutMs: 60_000, what: 'the job to end' },
    );
    expect(job.state).toBe('succeeded');
    expect(job.progress).toMatchObject({ total: 6, succeeded: 4, failed: 2 });
  });

  it('cancel stops running tasks and starts nothing new; SSE reports progress and the end', async () => {
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'e2e-cancel',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 5000 },
      pool: 'local',
      run: { builtin: 'sleep', ms: 300 },
    });
    const id = sub.body.id;
    const res = await fetch(`${cp.url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (needle: string): Promise<void> => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    };
    await waitFor(async () => ((await api.get(`/v1/jobs/${id}`)).body.progress.succeeded > 50 ? true : undefined), {
      timeoutMs: 60_000,
      what: 'tasks to run',
    });
    const c = await api.post(`/v1/jobs/${id}/cancel`);
    expect(c.status).toBe(200);
    expect(c.body.state).toBe('cancelled');
    await readUntil('event: end');
    expect(text).toContain('event: progress');
    expect(text).toContain('"state":"cancelled"');
    const progressEvents = text.split('\n\n').filter((e) => e.startsWith('event: progress'));
    for (const e of progressEvents) expect(addsUp(JSON.parse(e.split('data: ')[1]!))).toBe(true);
    const stopped = await waitFor(
      async () => {
        const j = (await api.get(`/v1/jobs/${id}`)).body;
        return j.progress.running === 0 ? j : undefined;
      },
      { timeoutMs: 20_000, what: 'running tasks to stop' },
    );
    await new Promise((r) => setTimeout(r, 1500));
    const later = (await api.get(`/v1/jobs/${id}`)).body;
    expect(later.progress.succeeded).toBe(stopped.progress.succeeded);
    expect(later.progress.succeeded).toBeLessThan(5000);
    expect(addsUp(later.progress)).toBe(true);
  });

  it('POST /v1/simulations rehearses a job on virtual time and GET answers the report', async () => {
    const bad = await api.post('/v1/simulations', { job: { kind: 'extraction' }, pool: {} });
    expect(bad.status).toBe(400);
    const sub = await api.post('/v1/simulations', {
      job: {
        kind: 'extraction',
        name: 'rehearsal',
        source: { snapshot: 'CC-MAIN-2023-50', batches: 500 },
        run: { builtin: 'noop' },
      },
      pool: {
        machineType: 'a2-highgpu-1g',
        gpu: { type: 'nvidia-tesla-a100', count: 1 },
        spot: true,
        zones: ['us-central1-a'],
        max: 4,
      },
      taskSeconds: { mean: 120 },
      seed: 5,
    });
    expect(sub.status).toBe(202);
    expect(sub.body.state).toBe('queued');
    const done = await waitFor(
      async () => {
        const s = (await api.get(`/v1/simulations/${sub.body.id}`)).body;
        return s.state === 'done' || s.state === 'failed' ? s : undefined;
      },
      { timeoutMs: 60_000, what: 'the simulation' },
    );
    expect(done.state).toBe('done');
    expect(done.report).toMatchObject({ finished: true, tasks: 500, peakVms: 4 });
    expect(done.report.makespanSeconds).toBeGreaterThan(done.report.idealMakespanSeconds);
    expect((await api.get('/v1/simulations/sim_nope')).status).toBe(404);
  });

  it('the pool scaled up for the work and back down to zero when idle', async () => {
    const pool = await waitFor(
      async () => {
        const p = (await api.get('/v1/pools')).body.pools.find((x: { name: string }) => x.name === 'local');
        return p.vms.length === 0 ? p : undefined;
      },
      { timeoutMs: 40_000, what: 'the pool to scale to zero' },
    );
    expect(pool.status.desired).toBe(0);
    expect(Object.keys(cp.local!.pids())).toHaveLength(0);
  });
});
