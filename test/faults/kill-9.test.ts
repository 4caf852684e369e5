import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kill9, spawnControlPlane, workerPids } from '../support/control-plane-process';
import { reportFault, type JobLike } from '../support/faults';
import { addsUp, client } from '../support/http';
import { freePort, startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

/** Usually well under a minute; the ceiling is for a loaded two-core machine, where process start-up alone can take seconds. */
const FAULT_TIMEOUT_MS = 150_000;

const TOKEN = 'fault-admin-token-0123456789';
const TOTAL = 1500;

describe(
  'kill -9 of workers, then of the whole control plane, loses and double-counts nothing',
  { timeout: 240_000 },
  () => {
    let redis: TestRedis;
    let port: number;
    const env = (): Record<string, string> => ({
      REDIS_URL: redis.url,
      PORT: String(port),
      KUMO_ADMIN_TOKEN: TOKEN,
      KUMO_LOCAL_WORKERS: '2',
      KUMO_LOCAL_SLOTS: '8',
      // Short task locks, so tasks of a killed worker return to the queue in seconds, not 30 s.
      KUMO_TASK_LOCK_MS: '3000',
      KUMO_DRAIN_MS: '1000',
      KUMO_PREFIX: 'kill9',
    });

    beforeAll(async () => {
      redis = await startTestRedis({ appendonly: true });
      port = await freePort();
    });
    /** The control plane running now: a failed or timed-out run must not leave it (and its workers) behind. */
    let live: Awaited<ReturnType<typeof spawnControlPlane>> | undefined;
    afterAll(async () => {
      if (live && live.proc.exitCode === null && live.proc.signalCode === null) kill9(live.proc.pid!);
      await redis.stop();
    });

    it(
      `a ${TOTAL}-task job ends with exactly ${TOTAL} succeeded`,
      async () => {
        let cp = (live = await spawnControlPlane(env()));
        const api = client(`http://127.0.0.1:${port}`, TOKEN);
        const sub = await api.post('/v1/jobs', {
          kind: 'extraction',
          name: 'survives',
          source: { snapshot: 'CC-MAIN-2023-50', batches: TOTAL },
          pool: 'local',
          run: { builtin: 'sleep', ms: 100 },
        });
        expect(sub.status).toBe(201);
        const id = sub.body.id as string;
        const poll = async (): Promise<{
          state: string;
          progress: { total: number; queued: number; running: number; succeeded: number; failed: number };
        }> => {
          const j = (await api.get(`/v1/jobs/${id}`)).body;
          expect(addsUp(j.progress), JSON.stringify(j.progress)).toBe(true);
          return j;
        };

        // 1. Workers die mid-job.
        await waitFor(async () => (await poll()).progress.succeeded >= TOTAL * 0.15 || undefined, {
          timeoutMs: 60_000,
          what: '15 % done',
        });
        const first = workerPids(cp.proc.pid!);
        expect(first.length).toBeGreaterThan(0);
        for (const pid of first) kill9(pid);
        // The control plane notices and starts others.
        await waitFor(
          async () => {
            const now = workerPids(cp.proc.pid!);
            return now.length > 0 && now.every((p) => !first.includes(p)) ? now : undefined;
          },
          { timeoutMs: 30_000, what: 'replacement workers' },
        );

        // 2. The whole control plane dies mid-job, and restarts against the same Redis.
        await waitFor(async () => (await poll()).progress.succeeded >= TOTAL * 0.5 || undefined, {
          timeoutMs: 90_000,
          what: '50 % done',
        });
        const before = await poll();
        expect(before.state).toBe('running');
        const exited = new Promise((r) => cp.proc.once('exit', r));
        kill9(cp.proc.pid!);
        await exited;
        cp = live = await spawnControlPlane(env());

        const done = await waitFor(
          async () => {
            const j = await poll();
            return j.state === 'succeeded' ? j : undefined;
          },
          { timeoutMs: 120_000, what: 'the job to finish after the restart' },
        );
        reportFault('kill-9-workers-then-control-plane', (await api.get(`/v1/jobs/${id}`)).body as JobLike);
        expect(done.progress).toEqual(
          expect.objectContaining({ total: TOTAL, succeeded: TOTAL, failed: 0, running: 0, queued: 0 }),
        );

        const exitedAgain = new Promise((r) => cp.proc.once('exit', r));
        cp.proc.kill('SIGTERM');
        expect(await exitedAgain).toBe(0);
      },
      FAULT_TIMEOUT_MS,
    );
  },
);
