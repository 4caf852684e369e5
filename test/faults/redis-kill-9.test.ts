import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startOnAofRedis } from '../support/aof-control-plane';
import { stopProcess } from '../support/control-plane-process';
import { reportFault, sleep, waitForEnd } from '../support/faults';
import { startTestRedis, type TestRedis } from '../support/redis-server';
import { waitFor } from '../support/wait';

/** Usually well under a minute; the ceiling is for a loaded two-core machine, where process start-up alone can take seconds. */
const FAULT_TIMEOUT_MS = 150_000;

const TOKEN = 'redis9-admin-token-0123456789';
const TOTAL = 400;

/**
 * Redis itself dies mid-job (kill -9: no final fsync) and comes back on the same AOF. With everysec up
 * to ~1 s of acknowledged writes are gone: counts, acks on the bus and BullMQ's moves alike, since all
 * live in the one Redis, the AOF keeps a consistent prefix of them. Tasks whose outcome was lost
 * become active again without a worker, stall when their lock runs out, and run again; the done
 * bitmap counts each once.
 */
describe('kill -9 of Redis mid-job, restarted on its AOF', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kumo-redis9-'));
  let redis: TestRedis | undefined;
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    `a ${TOTAL}-task job still ends with exactly ${TOTAL} succeeded`,
    async () => {
      const started = await startOnAofRedis({ dir, prefix: 'redis9', token: TOKEN, workers: 2 });
      const { port, cp, api } = started;
      redis = started.redis;
      try {
        const sub = await api.post('/v1/jobs', {
          kind: 'extraction',
          name: 'redis-dies',
          source: { snapshot: 'CC-MAIN-2023-50', batches: TOTAL },
          pool: 'local',
          run: { builtin: 'sleep', ms: 100 },
        });
        expect(sub.status).toBe(201);
        // Past the last fsync of the submission: this test is about the job's progress, not its creation.
        await sleep(1500);
        await waitFor(
          async () => (await api.get(`/v1/jobs/${sub.body.id}`)).body.progress.succeeded >= TOTAL * 0.25 || undefined,
          { timeoutMs: 60_000, what: '25 % done' },
        );
        const exited = new Promise((r) => redis!.process.once('exit', r));
        redis.process.kill('SIGKILL');
        await exited;
        await sleep(1000);
        redis = await startTestRedis({ appendonly: true, dir, port });
        const job = await waitForEnd(api, sub.body.id, 90_000);
        reportFault('redis-kill-9', job);
        expect(job.state).toBe('succeeded');
        expect(job.progress).toMatchObject({ total: TOTAL, succeeded: TOTAL, failed: 0 });
        // The control plane lived through it.
        expect(cp.proc.exitCode).toBeNull();
      } finally {
        await stopProcess(cp.proc);
      }
    },
    FAULT_TIMEOUT_MS,
  );
});
