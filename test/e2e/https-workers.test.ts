import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '@kumo/local';
import { startTestControlPlane, WORKERLESS_POOL } from '../support/control-plane';
import { HttpWorkerAgent } from '@kumo/worker';
import { createLogger, wallClock } from '@kumo/shared';
import { client } from '../support/http';
import { taskWritableDir } from '../support/task-dirs';
import { waitFor } from '../support/wait';
import { taskHost } from '../support/task-host';

const logger = createLogger({ name: 'https', level: 'warn' });

describe("contributors' workers over HTTPS, next to the fleet's own", () => {
  let cp: ControlPlane;
  let api: ReturnType<typeof client>;
  let stop: () => Promise<void>;
  const agents: HttpWorkerAgent[] = [];

  beforeAll(async () => {
    ({ cp, api, stop } = await startTestControlPlane('https', {
      logger,
      localPool: { max: 1, slotsPerVm: 4, idleTimeoutSeconds: 30 },
      workerEnv: { LOG_LEVEL: 'warn' },
      // Short enough for the vanished-worker test to see a lease lapse, long enough that a worker starved
      // of CPU for a few seconds under the full suite's load does not lose one (3 s did, once).
      leaseSeconds: 8,
    }));
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop({ handBackNow: true })));
    await stop();
  });

  const workerToken = async (name: string, pool = 'local'): Promise<string> => {
    const t = await api.post('/v1/tokens', { role: 'worker', name, pool });
    expect(t.status).toBe(201);
    return t.body.token as string;
  };

  it('two HTTPS workers and one Redis-side worker share a 400-batch job: every batch done exactly once, none held by two at once', async () => {
    // 400 batches keep all 12 slots busy for a while. Each is an isolated task (a pid and mount
    // namespace, a scratch folder made and removed): about twice a bare spawn, so 1,000 no longer fit
    // this test's minute on two shared cores.
    const batches = 400;
    // Every worker's tasks (the job's uid, not root) append to the ledger.
    const dir = taskWritableDir('kumo-ledger-');
    const ledger = join(dir, 'ledger');
    for (const name of ['laptop-a', 'laptop-b']) {
      const agent = new HttpWorkerAgent({
        controlUrl: cp.url,
        token: await workerToken(`owner-of-${name}`),
        pool: 'local',
        id: name,
        slots: 4,
        drainMs: 1000,
        ...taskHost(),
        clock: wallClock,
        logger,
        idlePollMs: 200,
      });
      agents.push(agent);
      await agent.start();
    }
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'shared-snapshot',
      source: { snapshot: 'CC-MAIN-2023-50', batches },
      run: {
        command: [
          'sh',
          '-c',
          `echo "$KUMO_TASK_INDEX $KUMO_WORKER_ID start" >> ${ledger}; sleep 0.02; echo "$KUMO_TASK_INDEX $KUMO_WORKER_ID end" >> ${ledger}; echo '::kumo::result {"ok": true}'`,
        ],
      },
    });
    expect(sub.status).toBe(201);
    const done = await waitFor(
      async () => {
        const j = (await api.get(`/v1/jobs/${sub.body.id}`)).body;
        return j.state === 'succeeded' ? j : undefined;
      },
      { timeoutMs: 50_000, what: 'the job to succeed' },
    );
    expect(done.progress).toMatchObject({ total: batches, succeeded: batches, failed: 0, running: 0 });
    const results = (await api.get(`/v1/jobs/${sub.body.id}/results?limit=${batches}`)).body.results as {
      index: number;
      result: { worker: string };
    }[];
    expect(results.map((r) => r.index)).toEqual([...Array(batches).keys()]);
    const byWorker = new Map<string, number>();
    for (const r of results) byWorker.set(r.result.worker, (byWorker.get(r.result.worker) ?? 0) + 1);
    expect(byWorker.get('laptop-a')).toBeGreaterThan(0);
    expect(byWorker.get('laptop-b')).toBeGreaterThan(0);
    expect([...byWorker.keys()].some((w) => w.startsWith('kumo-local-'))).toBe(true);
    // Contributors: an HTTPS worker's tasks are its token's name's, kumo's own the pool's; the same counts.
    const contributors = (await api.get(`/v1/jobs/${sub.body.id}/contributors`)).body.contributors as {
      worker: string;
      owner: string;
      succeeded: number;
    }[];
    expect(new Map(contributors.map((c) => [c.worker, c.succeeded]))).toEqual(byWorker);
    for (const c of contributors)
      expect(c.owner).toBe(c.worker.startsWith('laptop-') ? `owner-of-${c.worker}` : 'local');
    // The ledger: each batch started once and ended once, by one worker (no batch was held by two).
    const lines = readFileSync(ledger, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    const starts = new Map<string, string[]>();
    for (const [index, worker, what] of lines)
      if (what === 'start') starts.set(index!, [...(starts.get(index!) ?? []), worker!]);
    expect(starts.size).toBe(batches);
    expect([...starts.values()].every((w) => w.length === 1)).toBe(true);
    console.log(`https workers: ${JSON.stringify(Object.fromEntries(byWorker))}`);
  });

  it('a worker token leases only from its pool and reports only what it holds; a vanished worker loses its lease and the batch goes back', async () => {
    await api.put('/v1/pools/gpu', WORKERLESS_POOL);
    const tokA = await workerToken('contrib-a', 'gpu');
    const tokB = await workerToken('contrib-b', 'gpu');
    const a = client(cp.url, tokA);
    const b = client(cp.url, tokB);
    expect((await a.post('/v1/workers/lease', { workerId: 'contrib-a', pool: 'local', max: 1 })).status).toBe(403);
    expect((await a.get('/v1/jobs')).status).toBe(403);
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'on-gpu',
      source: { snapshot: 'S', batches: 2 },
      pool: 'gpu',
      run: { builtin: 'noop' },
    });
    const leased = await waitFor(
      async () => {
        const r = await a.post('/v1/workers/lease', { workerId: 'contrib-a', pool: 'gpu', max: 1 });
        return r.body.tasks?.length ? r.body : undefined;
      },
      { timeoutMs: 20_000, what: 'a lease' },
    );
    const task = leased.tasks[0];
    expect(task).toMatchObject({ jobId: sub.body.id, attempt: 1, run: { builtin: 'noop' } });
    expect(task.env.KUMO_TASK_INPUTS).toBe(JSON.stringify([`S/batch-${task.index}`]));
    // B cannot report A's task.
    const stolen = await b.post('/v1/workers/complete', { leaseId: task.leaseId, outcome: 'succeeded' });
    expect(stolen.status).toBe(403);
    // A vanishes: no heartbeat. After the lease (8 s) the batch goes back, and B gets it.
    const again = await waitFor(
      async () => {
        const r = await b.post('/v1/workers/lease', { workerId: 'contrib-b', pool: 'gpu', max: 2 });
        const mine = (r.body.tasks ?? []).find((t: { index: number }) => t.index === task.index);
        for (const t of r.body.tasks ?? [])
          if (t !== mine) await b.post('/v1/workers/complete', { leaseId: t.leaseId, outcome: 'succeeded' });
        return mine;
      },
      { timeoutMs: 45_000, intervalMs: 500, what: 'the batch to come back' },
    );
    expect(again.attempt).toBe(1);
    const late = await a.post('/v1/workers/complete', { leaseId: task.leaseId, outcome: 'succeeded' });
    expect(late.status).toBe(409);
    expect(
      (await b.post('/v1/workers/complete', { leaseId: again.leaseId, outcome: 'succeeded', result: { docsOut: 3 } }))
        .status,
    ).toBe(200);
    const j = await waitFor(
      async () => {
        const x = (await api.get(`/v1/jobs/${sub.body.id}`)).body;
        return x.state === 'succeeded' ? x : undefined;
      },
      { timeoutMs: 20_000, what: 'the job to finish' },
    );
    expect(j.progress).toMatchObject({ succeeded: 2, failed: 0 });
  });
});
