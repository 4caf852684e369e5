import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startOnAofRedis } from '../support/aof-control-plane';
import { stopProcess } from '../support/control-plane-process';
import { reportFault, waitForEnd } from '../support/faults';
import { freePort, startTestRedis, type TestRedis } from '../support/redis-server';

/** Usually well under a minute; the ceiling is for a loaded two-core machine, where process start-up alone can take seconds. */
const FAULT_TIMEOUT_MS = 150_000;

const TOKEN = 'durability-admin-token-0123456789';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('a 201 means the job is in Redis: it survives a Redis restart (AOF, appendfsync everysec)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kumo-durability-'));
  let redis: TestRedis | undefined;
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'submit, stop Redis (SIGTERM) at once, start it again on the same folder: the job is there and runs to exact completion',
    async () => {
      const TOTAL = 60;
      // `dir` is ours, so stopping this Redis keeps its AOF for the next one.
      const started = await startOnAofRedis({ dir, prefix: 'durable', token: TOKEN, workers: 1 });
      const { port, cp, api } = started;
      redis = started.redis;
      try {
        const sub = await api.post('/v1/jobs', {
          kind: 'extraction',
          name: 'durable',
          source: { snapshot: 'CC-MAIN-2023-50', batches: TOTAL },
          pool: 'local',
          run: { builtin: 'sleep', ms: 200 },
        });
        expect(sub.status).toBe(201);
        await redis.stop();
        redis = await startTestRedis({ appendonly: true, dir, port });
        // Straight from Redis, before any control plane code could have rewritten it.
        const direct = new Redis(redis.url);
        expect(await direct.exists(`durable:job:${sub.body.id}`)).toBe(1);
        await direct.quit();
        const job = await waitForEnd(api, sub.body.id, 60_000);
        reportFault('redis-clean-restart', job);
        expect(job.state).toBe('succeeded');
        expect(job.progress).toMatchObject({ total: TOTAL, succeeded: TOTAL, failed: 0 });
      } finally {
        await stopProcess(cp.proc);
      }
    },
    FAULT_TIMEOUT_MS,
  );
});

describe('the control plane refuses a Redis that may evict keys', () => {
  let redis: TestRedis | undefined;
  afterAll(async () => {
    await redis?.stop();
  });

  it(
    'npm start against maxmemory-policy allkeys-lru exits non-zero with one clear line',
    async () => {
      redis = await startTestRedis({ maxmemoryPolicy: 'allkeys-lru' });
      // `--silent`: npm's own lifecycle banner and failure notice would bury kumo's line.
      const proc = spawn('npm', ['start', '--silent'], {
        cwd: ROOT,
        env: {
          ...process.env,
          REDIS_URL: redis.url,
          PORT: String(await freePort()),
          KUMO_ADMIN_TOKEN: TOKEN,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let stdout = '';
      proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      proc.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
      const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
      expect(code).not.toBe(0);
      const lines = stderr.split('\n').filter((l) => l.trim() !== '');
      expect(lines, stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^kumo: Redis maxmemory-policy is 'allkeys-lru'; kumo needs 'noeviction'.*\[REDIS_UNSAFE\]$/,
      );
      expect(stdout).not.toContain('kumo is up');
      // Nothing was written to a Redis it refused.
      const direct = new Redis(redis.url);
      expect(await direct.dbsize()).toBe(0);
      await direct.quit();
    },
    FAULT_TIMEOUT_MS,
  );
});
