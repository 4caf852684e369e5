import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane';
import { kill9, workerPids } from '../support/control-plane-process';
import { addsUp } from '../support/http';
import { waitFor } from '../support/wait';

const warc = (n: number): string =>
  `crawl-data/CC-MAIN-2023-50/segments/1700679099281.67/warc/CC-MAIN-20231128083443-${String(n).padStart(5, '0')}.warc.gz`;
/** Reports the inputs and the index the task was given. */
const REPORT = ['sh', '-c', 'echo "::kumo::result {\\"seen\\": $KUMO_TASK_INPUTS, \\"index\\": $KUMO_TASK_INDEX}"'];
/** Fails tasks 2 and 5 (exit 3), reports the rest. */
const FAIL_2_AND_5 = [
  'sh',
  '-c',
  'case "$KUMO_TASK_INDEX" in 2|5) exit 3;; esac; echo "::kumo::result {\\"seen\\": $KUMO_TASK_INPUTS, \\"index\\": $KUMO_TASK_INDEX}"',
];

interface Progress {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  skipped: number;
}
interface Job {
  id: string;
  state: string;
  progress: Progress;
  rerunOf?: string;
}
interface Contributor {
  worker: string;
  owner: string;
  succeeded: number;
  failed: number;
  taskSeconds: number;
}

describe('rerun, skip and contributors, through the real API, Redis and worker processes', () => {
  let t: TestControlPlane;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'kumo-rerun-'));
    t = await startTestControlPlane('rerun', {
      localPool: { max: 2, slotsPerVm: 4, idleTimeoutSeconds: 60 },
      listings: { roots: [tmp] },
      // Short task locks: a killed worker's tasks go back to the queue in seconds.
      taskLockMs: 3000,
      workerEnv: { KUMO_DRAIN_MS: '1000' },
    });
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const job = async (id: string): Promise<Job> => {
    const j = (await t.api.get(`/v1/jobs/${id}`)).body as Job;
    expect(addsUp(j.progress), JSON.stringify(j.progress)).toBe(true);
    return j;
  };
  const ended = (id: string, timeoutMs = 60_000): Promise<Job> =>
    waitFor(
      async () => {
        const j = await job(id);
        return ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
      },
      { timeoutMs, what: `job ${id} to end` },
    );
  const results = async (id: string): Promise<{ index: number; result: { seen: string[]; index: number } }[]> =>
    (await t.api.get(`/v1/jobs/${id}/results`)).body.results;
  const submit = async (spec: Record<string, unknown>): Promise<Job> => {
    const res = await t.api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'x',
      pool: 'local',
      retry: { maxAttempts: 1 },
      ...spec,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as Job;
  };

  let listingJob: Job;
  const lines = [...Array(8).keys()].map(warc);

  it('a rerun of a failed listing job runs exactly its failed indices, with their original inputs', async () => {
    const listing = join(tmp, 'warc.paths');
    writeFileSync(listing, `${lines.join('\n')}\n`);
    const first = await submit({
      source: { snapshot: 'CC-MAIN-2023-50', listing },
      run: { command: FAIL_2_AND_5 },
      failurePolicy: { maxFailedTasks: 1 },
    });
    const live = await t.api.post(`/v1/jobs/${first.id}/rerun`, { tasks: 'failed' });
    if (live.status !== 201) expect(live.body.error.code).toBe('JOB_NOT_ENDED');
    listingJob = await ended(first.id);
    expect(listingJob).toMatchObject({ state: 'failed', progress: { failed: 2 } });

    const res = await t.api.post(`/v1/jobs/${first.id}/rerun`, {
      tasks: 'failed',
      patch: { run: { command: REPORT } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const rerun = res.body as Job;
    expect(rerun).toMatchObject({ rerunOf: first.id, state: 'queued', progress: { total: 2, queued: 2, skipped: 0 } });
    const done = await ended(rerun.id);
    expect(done).toMatchObject({ state: 'succeeded', progress: { total: 2, succeeded: 2, failed: 0 } });
    expect(await results(rerun.id)).toEqual([
      { index: 2, result: expect.objectContaining({ seen: [lines[2]], index: 2 }) },
      { index: 5, result: expect.objectContaining({ seen: [lines[5]], index: 5 }) },
    ]);

    // Unfinished = every task that did not succeed: the failed ones and those never run.
    const succeededFirst = (await results(first.id)).map((r) => r.index);
    const unfinished = await t.api.post(`/v1/jobs/${first.id}/rerun`, {
      tasks: 'unfinished',
      patch: { run: { command: REPORT }, priority: 60 },
    });
    expect(unfinished.status, JSON.stringify(unfinished.body)).toBe(201);
    await ended(unfinished.body.id);
    expect((await results(unfinished.body.id)).map((r) => r.index)).toEqual(
      [...lines.keys()].filter((i) => !succeededFirst.includes(i)),
    );

    // Nothing failed in the rerun: nothing to rerun; a bad patch is a 400 with its path.
    const none = await t.api.post(`/v1/jobs/${rerun.id}/rerun`, { tasks: 'failed' });
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('NOTHING_TO_RERUN');
    const bad = await t.api.post(`/v1/jobs/${first.id}/rerun`, { tasks: 'failed', patch: { timeoutSeconds: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toEqual(['patch', 'timeoutSeconds']);
  });

  it('409 while the job is live; 404 for no job', async () => {
    const slow = await submit({ source: { snapshot: 'S', batches: 4 }, run: { builtin: 'sleep', ms: 60_000 } });
    const res = await t.api.post(`/v1/jobs/${slow.id}/rerun`, { tasks: 'unfinished' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('JOB_NOT_ENDED');
    await t.api.post(`/v1/jobs/${slow.id}/cancel`, {});
    expect((await t.api.post('/v1/jobs/job_000000000000000000/rerun', { tasks: 'failed' })).status).toBe(404);
  });

  it('skip ranges and succeededIn: those tasks never run and are counted as skipped from the start', async () => {
    const ranged = await submit({
      source: { snapshot: 'S', batches: 12 },
      run: { command: REPORT },
      skip: {
        ranges: [
          [0, 4],
          [8, 10],
        ],
      },
    });
    expect(ranged.progress).toMatchObject({ total: 12, skipped: 6, queued: 6, succeeded: 0 });
    expect(await ended(ranged.id)).toMatchObject({
      state: 'succeeded',
      progress: { total: 12, skipped: 6, succeeded: 6, failed: 0, queued: 0 },
    });
    expect((await results(ranged.id)).map((r) => r.index)).toEqual([4, 5, 6, 7, 10, 11]);

    // The tasks that succeeded in the failed listing job, skipped in a job of the same shape.
    const succeededThere = (await results(listingJob.id)).map((r) => r.index);
    const from = await submit({
      source: { snapshot: 'S', batches: 8 },
      run: { command: REPORT },
      skip: { succeededIn: [listingJob.id] },
    });
    expect(from.progress).toMatchObject({ total: 8, skipped: succeededThere.length });
    await ended(from.id);
    expect((await results(from.id)).map((r) => r.index)).toEqual(
      [...lines.keys()].filter((i) => !succeededThere.includes(i)),
    );

    const bad = await t.api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'x',
      source: { snapshot: 'S', batches: 10 },
      run: { builtin: 'noop' },
      skip: { ranges: [[0, 11]] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toEqual(['skip', 'ranges', 0, 1]);
  });

  it('a canary with skipped tasks is the first N tasks that run: the rest wait for them, and never run when they fail', async () => {
    // Runnable: 4, 5, 8, 9. The canary is 4 and 5 (slow, then failing); 8 and 9 would succeed at once.
    const failing = await submit({
      source: { snapshot: 'S', batches: 10 },
      skip: {
        ranges: [
          [0, 4],
          [6, 8],
        ],
      },
      canary: { tasks: 2 },
      retry: { maxAttempts: 1 },
      run: {
        command: [
          'sh',
          '-c',
          'case "$KUMO_TASK_INDEX" in 4|5) sleep 1; exit 3;; esac; echo "::kumo::result {\\"seen\\": $KUMO_TASK_INPUTS, \\"index\\": $KUMO_TASK_INDEX}"',
        ],
      },
    });
    expect(await ended(failing.id)).toMatchObject({ state: 'failed', progress: { skipped: 6 } });
    // The skipped tasks count as succeeded, yet they are no canary: 8 and 9 were never fed.
    expect(await results(failing.id)).toEqual([]);

    const passing = await submit({
      source: { snapshot: 'S', batches: 10 },
      skip: { ranges: [[0, 4]] },
      canary: { tasks: 2 },
      run: { command: REPORT },
    });
    expect(await ended(passing.id)).toMatchObject({ state: 'succeeded', progress: { skipped: 4, succeeded: 6 } });
    expect((await results(passing.id)).map((r) => r.index)).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it('contributors sum exactly to the job counts after a worker is killed mid-job', async () => {
    const total = 400;
    const sub = await submit({
      source: { snapshot: 'S', batches: total },
      run: { builtin: 'sleep', ms: 40 },
      retry: { maxAttempts: 3 },
    });
    await waitFor(async () => ((await job(sub.id)).progress.succeeded >= total * 0.2 ? true : undefined), {
      timeoutMs: 60_000,
      what: '20 % done',
    });
    const pids = workerPids(process.pid);
    expect(pids.length).toBeGreaterThan(0);
    kill9(pids[0]!);
    const done = await ended(sub.id, 120_000);
    expect(done.progress).toMatchObject({ total, succeeded: total, failed: 0 });
    const rows = (await t.api.get(`/v1/jobs/${sub.id}/contributors`)).body.contributors as Contributor[];
    expect(rows.reduce((n, r) => n + r.succeeded, 0)).toBe(done.progress.succeeded);
    expect(rows.reduce((n, r) => n + r.failed, 0)).toBe(done.progress.failed);
    expect(rows.every((r) => r.owner === 'local' && r.taskSeconds >= 0)).toBe(true);
    expect(rows.length).toBeGreaterThanOrEqual(2);

    // The team's table holds every job of the pool today: at least this job's rows.
    const team = (await t.api.get('/v1/contributors?pool=local')).body.contributors as Contributor[];
    for (const r of rows)
      expect(team.find((x) => x.worker === r.worker)?.succeeded).toBeGreaterThanOrEqual(r.succeeded);
    expect((await t.api.get('/v1/jobs/job_000000000000000000/contributors')).status).toBe(404);
  });
});
