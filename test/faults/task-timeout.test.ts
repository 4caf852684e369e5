import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnControlPlane, stopProcess } from '../support/control-plane-process';
import { reportFault, waitForEnd } from '../support/faults';
import { client } from '../support/http';
import { testPrefix, deleteKeys } from '../support/prefix';
import { freePort } from '../support/redis-server';

/** Usually well under a minute; the ceiling is for a loaded two-core machine, where process start-up alone can take seconds. */
const FAULT_TIMEOUT_MS = 150_000;

const TOKEN = 'timeout-admin-token-0123456789';
/** A sleep no other process on the machine runs, so pgrep finds only ours. */
const MARK = `${29 + Math.floor(Math.random() * 1000) / 1000}`;

describe('a task that hangs past its timeout is stopped, retried, then failed', () => {
  const prefix = testPrefix('timeout');
  let cp: Awaited<ReturnType<typeof spawnControlPlane>>;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    cp = await spawnControlPlane({
      REDIS_URL: inject('redisUrl'),
      PORT: String(port),
      KUMO_ADMIN_TOKEN: TOKEN,
      KUMO_PREFIX: prefix,
      KUMO_LOCAL_WORKERS: '1',
      KUMO_LOCAL_SLOTS: '4',
      KUMO_TASK_LOCK_MS: '3000',
      KUMO_DRAIN_MS: '500',
    });
  });
  afterAll(async () => {
    await stopProcess(cp.proc);
    await deleteKeys(prefix);
  });

  it(
    'timeoutSeconds 1 with `sleep 30`: TASK_TIMEOUT, retried once, then the job fails in seconds, no sleep left behind',
    async () => {
      const api = client(`http://127.0.0.1:${port}`, TOKEN);
      const t0 = Date.now();
      const sub = await api.post('/v1/jobs', {
        kind: 'extraction',
        name: 'hangs',
        source: { snapshot: 'CC-MAIN-2023-50', batches: 1 },
        pool: 'local',
        timeoutSeconds: 1,
        retry: { maxAttempts: 2, backoffSeconds: 0 },
        // The sleep is a grandchild (sh runs it): stopping the task must stop its whole process group.
        run: { command: ['sh', '-c', `sleep ${MARK}; echo never`] },
      });
      expect(sub.status).toBe(201);
      const job = await waitForEnd(api, sub.body.id, 45_000);
      const seconds = (Date.now() - t0) / 1000;
      reportFault('task-timeout', job, { seconds: seconds.toFixed(1) });
      expect(job.state).toBe('failed');
      expect(job.reason).toBe('TOO_MANY_FAILED_TASKS');
      expect(job.progress).toMatchObject({ total: 1, succeeded: 0, failed: 1 });
      expect(seconds).toBeLessThan(25);
      const tasks = (await api.get(`/v1/jobs/${sub.body.id}/tasks`)).body.tasks as {
        index: number;
        attempt: number;
        final: boolean;
        error: { code: string };
      }[];
      expect(tasks.map((t) => [t.index, t.attempt, t.final, t.error.code])).toEqual([[0, 2, true, 'TASK_TIMEOUT']]);
      const left = spawnSync('pgrep', ['-f', `sleep ${MARK}`], { encoding: 'utf8' }).stdout.trim();
      expect(left, 'a timed-out task left its sleep running').toBe('');
    },
    FAULT_TIMEOUT_MS,
  );
});
