import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { WorkerAgent } from '@kumo/worker';
import { createBus, createLogger, JobStore, Keys, queueName, taskQueueId, wallClock, type Bus } from '@kumo/shared';
import { startTestControlPlane, type TestControlPlane, WORKERLESS_POOL } from '../support/control-plane';
import { waitForEnd } from '../support/faults';
import { waitFor } from '../support/wait';
import { taskHost } from '../support/task-host';

const logger = createLogger({ name: 'lost-lock', level: process.env.LOG_LEVEL ?? 'warn' });

/**
 * A Redis-side worker frozen past its task lock (a long GC pause, a VM live-migrated) has lost its
 * tasks: the stall check gives them to whoever takes them next, with the same attempt number. Its own
 * copy must stop as soon as it sees its lock go, no second copy may run a task that is done already,
 * and nothing of a job runs after the job ended. Here the freeze is simulated in-process: the task's
 * lock is deleted in Redis, so its renewal fails exactly as a thawed worker's does.
 */
describe('a Redis-side worker whose task lock is lost', () => {
  let tcp: TestControlPlane;
  let bus: Bus;
  let agent: WorkerAgent;
  let redis: Redis;
  let jobs: JobStore;
  const dir = mkdtempSync(join(tmpdir(), 'kumo-lost-lock-'));
  // Tasks run as an unprivileged identity of their own: they must be able to write their ledger here.
  chmodSync(dir, 0o777);

  beforeAll(async () => {
    tcp = await startTestControlPlane('lost-lock', { logger, localPool: { max: 0 } });
    bus = await createBus({ kind: 'redis', redisUrl: inject('redisUrl'), prefix: tcp.prefix, logger });
    // A lock of 3 s: the stall check comes round in seconds, yet a loaded machine renews in time.
    agent = new WorkerAgent({
      redisUrl: inject('redisUrl'),
      prefix: tcp.prefix,
      bus,
      pool: 'local',
      id: 'frozen',
      slots: 2,
      lockMs: 3000,
      drainMs: 200,
      heartbeatMs: 500,
      ...taskHost(),
      clock: wallClock,
      logger,
    });
    await agent.start();
    redis = new Redis(inject('redisUrl'));
    jobs = new JobStore(redis, { prefix: tcp.prefix });
  });
  afterAll(async () => {
    // Whatever still runs, ends: its wait is over.
    for (const name of ['lock', 'paused', 'done']) writeFileSync(join(dir, `${name}.go`), '');
    await agent.stop({ handBackNow: true });
    await bus.close();
    await redis.quit();
    await tcp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A task that writes `start` to its ledger, waits for the file `go`, writes `end`; stopped (SIGTERM),
   * it writes `stop`. The ledger is what really ran, whatever kumo counted.
   */
  const submit = async (name: string, batches: number, pool = 'local'): Promise<{ id: string; ledger: string }> => {
    const ledger = join(dir, `${name}.ledger`);
    const script = `trap 'echo "$KUMO_TASK_INDEX stop" >> "$LEDGER"; exit 143' TERM; echo "$KUMO_TASK_INDEX start" >> "$LEDGER"; while [ ! -f "$GO" ]; do sleep 0.05; done; echo "$KUMO_TASK_INDEX end" >> "$LEDGER"`;
    const sub = await tcp.api.post('/v1/jobs', {
      kind: 'extraction',
      name,
      source: { snapshot: 'S', batches },
      pool,
      env: { LEDGER: ledger, GO: join(dir, `${name}.go`) },
      run: { command: ['sh', '-c', script] },
    });
    expect(sub.status).toBe(201);
    return { id: sub.body.id as string, ledger };
  };
  const lines = (ledger: string): string[] =>
    existsSync(ledger) ? readFileSync(ledger, 'utf8').trim().split('\n').filter(Boolean) : [];

  it('the copy that lost its lock stops at once; the copy run again is the only one left, and none outlives the job', async () => {
    const { id, ledger } = await submit('lock', 1);
    await waitFor(async () => lines(ledger).length === 1 || undefined, {
      timeoutMs: 30_000,
      what: 'the first copy to start',
    });
    // The freeze: the lock goes, the renewal fails, and the stall check hands the task out again.
    await redis.del(`${new Keys(tcp.prefix).queuePrefix()}:${queueName('local')}:${taskQueueId(id, 0)}:lock`);
    await waitFor(async () => lines(ledger).filter((l) => l.endsWith('start')).length >= 2 || undefined, {
      timeoutMs: 30_000,
      what: 'a second copy to start',
    });
    await tcp.api.post(`/v1/jobs/${id}/cancel`, {});
    await waitFor(async () => ((await jobs.state(id)) === 'cancelled' && agent.busy === 0) || undefined, {
      timeoutMs: 30_000,
      what: 'the job cancelled and the worker idle',
    });
    // Never two copies at once (each start followed by its stop before the next start), and none left
    // running once the job ended and the worker is idle.
    const runs = lines(ledger);
    expect(runs.length, runs.join(', ')).toBeGreaterThanOrEqual(4);
    expect(runs, runs.join(', ')).toEqual(runs.map((_, n) => (n % 2 === 0 ? '0 start' : '0 stop')));
    // The stopped copy handed its place back: nothing of the cancelled job counts as running.
    const job = await waitFor(
      async () => {
        const j = (await tcp.api.get(`/v1/jobs/${id}`)).body;
        return j.progress.running === 0 ? j : undefined;
      },
      { timeoutMs: 10_000, what: 'the running count to drop' },
    );
    expect(job).toMatchObject({ state: 'cancelled', progress: { total: 1, running: 0, succeeded: 0, failed: 0 } });
  });

  /**
   * The same loss while the job is paused. The lost copy reports nothing (another delivery may be counted
   * already) and the next delivery only waits: between them the task must not stay counted as running
   * (a paused job whose work stopped shows running: 0), and after the resume it runs and counts once.
   */
  it('a copy lost while its job is paused leaves the running count; resumed, the task runs and counts once', async () => {
    const { id, ledger } = await submit('paused', 1);
    await waitFor(
      async () =>
        ((await tcp.api.get(`/v1/jobs/${id}`)).body.progress.running === 1 && lines(ledger).length === 1) || undefined,
      { timeoutMs: 30_000, what: 'the task to start and be counted' },
    );
    expect((await tcp.api.post(`/v1/jobs/${id}/pause`, {})).status).toBe(200);
    await redis.del(`${new Keys(tcp.prefix).queuePrefix()}:${queueName('local')}:${taskQueueId(id, 0)}:lock`);
    await waitFor(async () => lines(ledger).includes('0 stop') || undefined, {
      timeoutMs: 30_000,
      what: 'the lost copy to stop',
    });
    const paused = await waitFor(
      async () => {
        const j = (await tcp.api.get(`/v1/jobs/${id}`)).body;
        return j.progress.running === 0 ? j : undefined;
      },
      { timeoutMs: 20_000, what: 'the lost copy to leave the running count while the job is paused' },
    );
    expect(paused).toMatchObject({ state: 'paused', progress: { total: 1, running: 0, succeeded: 0, failed: 0 } });
    expect(lines(ledger)).toEqual(['0 start', '0 stop']);

    writeFileSync(join(dir, 'paused.go'), '');
    expect((await tcp.api.post(`/v1/jobs/${id}/resume`, {})).status).toBe(200);
    const job = await waitForEnd(tcp.api, id, 30_000);
    expect(job).toMatchObject({ state: 'succeeded', progress: { total: 1, running: 0, succeeded: 1, failed: 0 } });
    expect(lines(ledger)).toEqual(['0 start', '0 stop', '0 start', '0 end']);
  });

  it('a task that is done already is not run again, whatever its attempt number', async () => {
    // A pool of its own, whose worker starts only once task 0 is counted done.
    expect((await tcp.api.put('/v1/pools/later', WORKERLESS_POOL)).status).toBe(201);
    const { id, ledger } = await submit('done', 2, 'later');
    // Task 0 is counted done (a copy of it that ran elsewhere reported) before any worker took it.
    await jobs.applyEvents(id, 'later', [{ t: 'ok', j: id, i: 0, a: 1, w: 'elsewhere', at: Date.now() }]);
    // A long lock: nothing here may be lost, or the task would rightly run again.
    const later = new WorkerAgent({
      redisUrl: inject('redisUrl'),
      prefix: tcp.prefix,
      bus,
      pool: 'later',
      id: 'later',
      slots: 2,
      lockMs: 30_000,
      drainMs: 200,
      heartbeatMs: 500,
      ...taskHost(),
      clock: wallClock,
      logger,
    });
    await later.start();
    onTestFinished(() => later.stop({ handBackNow: true }));
    await waitFor(async () => lines(ledger).includes('1 start') || undefined, {
      timeoutMs: 30_000,
      what: 'task 1 to start',
    });
    writeFileSync(join(dir, 'done.go'), '');
    const job = await waitForEnd(tcp.api, id, 30_000);
    expect(job.progress).toMatchObject({ total: 2, succeeded: 2, failed: 0 });
    expect(lines(ledger)).toEqual(['1 start', '1 end']);
  });
});
