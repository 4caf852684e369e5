import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@kumo/shared';
import { kill9, processExited, spawnControlPlane, workerPids } from '../support/control-plane-process';
import { client } from '../support/http';
import { waitFor } from '../support/wait';

/**
 * Ctrl-C on `npm start` signals the terminal's whole foreground process group. The control plane must
 * still stop in order (API, workers drained, scheduler, bus, then its own Redis), not find its Redis
 * gone first and hang on reconnects until the shutdown deadline.
 */
describe('Ctrl-C on npm start (SIGINT to its whole process group), with its own Redis', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kumo-ctrl-c-'));
  const left: number[] = [];
  afterAll(() => {
    for (const pid of left) if (!processExited(pid)) kill9(pid);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops in order and exits 0 well before its deadline, its Redis and workers with it', async () => {
    const port = await freePort();
    const token = 'ctrl-c-admin-token-0123456789';
    const { proc, output } = await spawnControlPlane(
      {
        PORT: String(port),
        KUMO_DATA_DIR: dataDir,
        KUMO_ADMIN_TOKEN: token,
        KUMO_SHUTDOWN_DEADLINE_MS: '30000',
        KUMO_LOCAL_WORKERS: '2',
      },
      { ownProcessGroup: true },
    );
    left.push(proc.pid!);
    const redisPid = Number(readFileSync(join(dataDir, 'redis.pid'), 'utf8'));
    left.push(redisPid);
    const api = client(`http://127.0.0.1:${port}`, token);
    const sub = await api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'busy',
      source: { snapshot: 'CC-MAIN-2023-50', batches: 2000 },
      pool: 'local',
      run: { builtin: 'sleep', ms: 200 },
    });
    expect(sub.status).toBe(201);
    await waitFor(
      async () => ((await api.get(`/v1/jobs/${sub.body.id}`)).body.progress.succeeded > 0 ? true : undefined),
      { timeoutMs: 30_000, what: 'tasks to run' },
    );
    const workers = workerPids(proc.pid!);
    expect(workers.length).toBeGreaterThan(0);
    left.push(...workers);

    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    process.kill(-proc.pid!, 'SIGINT');
    // A hang would end at the 30 s deadline with exit 1 and says so.
    expect(await exited, output()).toBe(0);
    expect(output()).not.toMatch(/shutdown passed its deadline/);
    await waitFor(async () => (processExited(redisPid) && workers.every(processExited)) || undefined, {
      timeoutMs: 10_000,
      what: 'Redis and the workers to be gone',
    });
  });
});
