import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnControlPlane, workerPids, stopProcess } from '../support/control-plane-process';
import { reportFault, waitForEnd } from '../support/faults';
import { client } from '../support/http';
import { testPrefix, deleteKeys } from '../support/prefix';
import { freePort } from '../support/redis-server';
import { waitFor } from '../support/wait';

/** Usually well under a minute; the ceiling is for a loaded two-core machine, where process start-up alone can take seconds. */
const FAULT_TIMEOUT_MS = 150_000;

const TOKEN = 'sigterm-admin-token-0123456789';
const TOTAL = 64;

describe('SIGTERM of every worker mid-job: they drain, hand the rest back, and nothing fails', () => {
  const prefix = testPrefix('sigterm');
  let cp: Awaited<ReturnType<typeof spawnControlPlane>>;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    // Tasks of 1.5 s and a drain of 300 ms: a worker told to stop always has tasks left to hand back.
    cp = await spawnControlPlane({
      REDIS_URL: inject('redisUrl'),
      PORT: String(port),
      KUMO_ADMIN_TOKEN: TOKEN,
      KUMO_PREFIX: prefix,
      KUMO_LOCAL_WORKERS: '2',
      KUMO_LOCAL_SLOTS: '8',
      KUMO_TASK_LOCK_MS: '3000',
      KUMO_DRAIN_MS: '300',
    });
  });
  afterAll(async () => {
    await stopProcess(cp.proc);
    await deleteKeys(prefix);
  });

  it(
    `a ${TOTAL}-task job ends with ${TOTAL} succeeded, 0 failed, and hand-backs counted apart`,
    async () => {
      const api = client(`http://127.0.0.1:${port}`, TOKEN);
      const sub = await api.post('/v1/jobs', {
        kind: 'extraction',
        name: 'sigterm',
        source: { snapshot: 'CC-MAIN-2023-50', batches: TOTAL },
        pool: 'local',
        retry: { maxAttempts: 1 },
        run: { builtin: 'sleep', ms: 1500 },
      });
      expect(sub.status).toBe(201);
      // Both workers busy, some tasks done.
      const pids = await waitFor(
        async () => {
          const j = (await api.get(`/v1/jobs/${sub.body.id}`)).body;
          const now = workerPids(cp.proc.pid!);
          return j.progress.running >= 8 && j.progress.succeeded >= 8 && now.length === 2 ? now : undefined;
        },
        { timeoutMs: 30_000, what: 'two busy workers' },
      );
      for (const pid of pids) process.kill(pid, 'SIGTERM');
      await waitFor(async () => workerPids(cp.proc.pid!).every((p) => !pids.includes(p)) || undefined, {
        timeoutMs: 20_000,
        what: 'the workers to exit',
      });
      const job = await waitForEnd(api, sub.body.id, 60_000);
      reportFault('worker-sigterm', job);
      expect(job.state).toBe('succeeded');
      expect(job.progress).toMatchObject({ total: TOTAL, succeeded: TOTAL, failed: 0 });
      // maxAttempts 1: had a hand-back used an attempt, a task would have failed for good.
      expect(job.handBacks).toBeGreaterThan(0);
    },
    FAULT_TIMEOUT_MS,
  );
});
