import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkerAgent } from '@kumo/worker';
import { createBus, createLogger, Keys, queueName, taskQueueId, wallClock, type Bus } from '@kumo/shared';
import { startTestControlPlane, type TestControlPlane } from '../support/control-plane';
import { waitForEnd } from '../support/faults';
import { taskHost } from '../support/task-host';
import { waitFor } from '../support/wait';

const logger = createLogger({ name: 'paused-lost-copy', level: process.env.LOG_LEVEL ?? 'warn' });

/**
 * A job is paused while one of its tasks runs, and then that task's worker loses its lock (it froze
 * past it). The lost copy stops and reports nothing: it cannot know whether another delivery is counted
 * already. The next delivery finds the job paused and only waits. Between them the task must not stay
 * counted as running: a paused job whose work has stopped shows `running: 0` (the dashboard and
 * `kumo watch` say "nothing runs"), and after the resume the task runs and is counted once.
 */
describe('a task lost while its job is paused', () => {
  let tcp: TestControlPlane;
  let bus: Bus;
  let agent: WorkerAgent;
  let redis: Redis;
  const dir = mkdtempSync(join(tmpdir(), 'kumo-paused-lost-'));
  // Tasks run as an unprivileged identity of their own: they must be able to write their ledger here.
  chmodSync(dir, 0o777);

  beforeAll(async () => {
    tcp = await startTestControlPlane('paused-lost', { logger, localPool: { max: 0 } });
    bus = await createBus({ kind: 'redis', redisUrl: inject('redisUrl'), prefix: tcp.prefix, logger });
    // A lock of 3 s: the stall check comes round in seconds, yet a loaded machine renews in time.
    agent = new WorkerAgent({
      redisUrl: inject('redisUrl'),
      prefix: tcp.prefix,
      bus,
      pool: 'local',
      id: 'thawed',
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
  });
  afterAll(async () => {
    writeFileSync(join(dir, 'go'), '');
    await agent.stop({ handBackNow: true });
    await bus.close();
    await redis.quit();
    await tcp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is not counted as running while the job waits, and is counted once after the resume', async () => {
    const ledger = join(dir, 'ledger');
    const script = `trap 'echo "$KUMO_TASK_INDEX stop" >> "$LEDGER"; exit 143' TERM; echo "$KUMO_TASK_INDEX start" >> "$LEDGER"; while [ ! -f "$GO" ]; do sleep 0.05; done; echo "$KUMO_TASK_INDEX end" >> "$LEDGER"`;
    const sub = await tcp.api.post('/v1/jobs', {
      kind: 'extraction',
      name: 'paused-lost',
      source: { snapshot: 'S', batches: 1 },
      pool: 'local',
      env: { LEDGER: ledger, GO: join(dir, 'go') },
      run: { command: ['sh', '-c', script] },
    });
    expect(sub.status).toBe(201);
    const id = sub.body.id as string;
    const lines = (): string[] =>
      existsSync(ledger) ? readFileSync(ledger, 'utf8').trim().split('\n').filter(Boolean) : [];
    await waitFor(
      async () =>
        ((await tcp.api.get(`/v1/jobs/${id}`)).body.progress.running === 1 && lines().length === 1) || undefined,
      { timeoutMs: 30_000, what: 'the task to start and be counted' },
    );

    expect((await tcp.api.post(`/v1/jobs/${id}/pause`, {})).status).toBe(200);
    // The freeze: the lock goes, the renewal fails, the copy stops, and the stall check hands the task out again.
    await redis.del(`${new Keys(tcp.prefix).queuePrefix()}:${queueName('local')}:${taskQueueId(id, 0)}:lock`);
    await waitFor(async () => lines().includes('0 stop') || undefined, {
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
    // Nothing started while paused.
    expect(lines()).toEqual(['0 start', '0 stop']);

    writeFileSync(join(dir, 'go'), '');
    expect((await tcp.api.post(`/v1/jobs/${id}/resume`, {})).status).toBe(200);
    const job = await waitForEnd(tcp.api, id, 30_000);
    expect(job).toMatchObject({ state: 'succeeded', progress: { total: 1, running: 0, succeeded: 1, failed: 0 } });
    expect(lines()).toEqual(['0 start', '0 stop', '0 start', '0 end']);
  });
});
