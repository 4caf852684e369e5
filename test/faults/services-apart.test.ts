import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_POOL_DEFAULTS } from '@kumo/shared';
import { processExited, workerPids } from '../support/control-plane-process';
import { reportFault, sleep, spawnService, waitForEnd, type ServiceProcess } from '../support/faults';
import { client } from '../support/http';
import { testPrefix } from '../support/prefix';
import { freePort } from '../support/redis-server';
import { waitFor } from '../support/wait';

/** Usually well under a minute; the ceiling is for a loaded two-core machine, where process start-up alone can take seconds. */
const FAULT_TIMEOUT_MS = 150_000;

const TOKEN = 'apart-admin-token-0123456789';
const TOTAL = 300;

/**
 * The services as production runs them: the API, the scheduler and the provisioner each its own
 * process, sharing only Redis (and the bus on it); local worker processes under the provisioner.
 * Each of the scheduler and the provisioner is killed (-9) mid-job and started again.
 */
describe('kill -9 and restart of the scheduler alone, and of the provisioner alone', () => {
  const prefix = testPrefix('apart');
  const redisUrl = inject('redisUrl');
  const common = { REDIS_URL: redisUrl, KUMO_PREFIX: prefix };
  const schedulerEnv = { ...common, KUMO_LEADER_TTL_MS: '3000', KUMO_SCALE_INTERVAL_MS: '500' };
  // The workers inherit the provisioner's environment: short locks and drains.
  const provisionerEnv = {
    ...common,
    KUMO_PROVIDER: 'local',
    KUMO_RECONCILE_INTERVAL_MS: '1000',
    KUMO_TASK_LOCK_MS: '3000',
    KUMO_DRAIN_MS: '500',
  };
  let api: ServiceProcess;
  let scheduler: ServiceProcess;
  let provisioner: ServiceProcess;
  let http: ReturnType<typeof client>;

  beforeAll(async () => {
    const port = await freePort();
    api = await spawnService('api', { ...common, PORT: String(port), KUMO_ADMIN_TOKEN: TOKEN });
    http = client(`http://127.0.0.1:${port}`, TOKEN);
    const pool = await http.put('/v1/pools/local', {
      ...LOCAL_POOL_DEFAULTS,
      max: 2,
      slotsPerVm: 8,
      idleTimeoutSeconds: 30,
    });
    expect(pool.status).toBe(201);
    scheduler = await spawnService('scheduler', schedulerEnv);
    provisioner = await spawnService('provisioner', provisionerEnv);
  }, FAULT_TIMEOUT_MS);
  afterAll(async () => {
    for (const s of [provisioner, scheduler, api])
      if (s && s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  const submit = async (name: string): Promise<string> => {
    const sub = await http.post('/v1/jobs', {
      kind: 'extraction',
      name,
      source: { snapshot: 'CC-MAIN-2023-50', batches: TOTAL },
      pool: 'local',
      run: { builtin: 'sleep', ms: 100 },
    });
    expect(sub.status).toBe(201);
    return sub.body.id;
  };
  const progressOf = async (id: string): Promise<{ succeeded: number }> =>
    (await http.get(`/v1/jobs/${id}`)).body.progress;

  it(
    `the scheduler dies (kill -9) at 25 % and restarts: exactly ${TOTAL} succeeded`,
    async () => {
      const id = await submit('scheduler-dies');
      await waitFor(async () => (await progressOf(id)).succeeded >= TOTAL * 0.25 || undefined, {
        timeoutMs: 45_000,
        what: '25 % done',
      });
      await scheduler.kill9();
      const at = (await progressOf(id)).succeeded;
      await sleep(1000);
      scheduler = await spawnService('scheduler', schedulerEnv);
      const job = await waitForEnd(http, id, 90_000);
      reportFault('scheduler-kill-9', job, { succeededAtKill: at });
      expect(job.state).toBe('succeeded');
      expect(job.progress).toMatchObject({ total: TOTAL, succeeded: TOTAL, failed: 0 });
    },
    FAULT_TIMEOUT_MS,
  );

  it(
    `the provisioner dies (kill -9) at 25 % and restarts: its workers hand back and go, new ones finish; exactly ${TOTAL} succeeded`,
    async () => {
      const id = await submit('provisioner-dies');
      const before = await waitFor(
        async () => {
          const workers = workerPids(provisioner.proc.pid!);
          return (await progressOf(id)).succeeded >= TOTAL * 0.25 && workers.length > 0 ? workers : undefined;
        },
        { timeoutMs: 45_000, what: '25 % done with workers up' },
      );
      await provisioner.kill9();
      const killedAt = Date.now();
      // Its workers notice the parent is gone and leave (as a VM would stay, a local process cannot).
      await waitFor(async () => before.every(processExited) || undefined, {
        timeoutMs: 30_000,
        what: 'orphaned workers to exit',
      });
      const orphansGoneMs = Date.now() - killedAt;
      provisioner = await spawnService('provisioner', provisionerEnv);
      const job = await waitForEnd(http, id, 90_000);
      reportFault('provisioner-kill-9', job, { orphansGoneMs });
      expect(job.state).toBe('succeeded');
      expect(job.progress).toMatchObject({ total: TOTAL, succeeded: TOTAL, failed: 0 });
      expect(workerPids(provisioner.proc.pid!).length).toBeGreaterThan(0);
    },
    FAULT_TIMEOUT_MS,
  );

  it(
    'on SIGTERM each service stops taking work, closes, and exits 0; the provisioner takes its local workers with it',
    async () => {
      const workers = workerPids(provisioner.proc.pid!);
      expect(workers.length).toBeGreaterThan(0);
      for (const s of [provisioner, scheduler, api]) {
        expect(await s.stop(), `${s.name}: ${s.output().slice(-1500)}`).toBe(0);
        expect(s.output()).toContain('SIGTERM: shutting down');
        expect(s.output()).not.toContain('shutdown step failed');
      }
      expect(workers.every(processExited)).toBe(true);
    },
    FAULT_TIMEOUT_MS,
  );
});
