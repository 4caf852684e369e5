import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@kumo/shared';
import { startTestControlPlane, type TestControlPlane, WORKERLESS_POOL } from '../support/control-plane';
import { spawnService, waitForEnd, type ServiceProcess } from '../support/faults';
import { taskWritableDir } from '../support/task-dirs';
import { taskPids } from '../support/task-processes';
import { waitFor } from '../support/wait';

/** Usually under a minute; the ceiling is for a loaded two-core machine, where each process start takes seconds. */
const FAULT_TIMEOUT_MS = 150_000;
const TOTAL = 2;

/**
 * The same tasks lost twice on a pool only contributors serve, one of the losses a frozen contributor:
 * - contrib-a leases both tasks and freezes (SIGSTOP) past its 3 s lease: they go back (loss 1);
 * - contrib-b takes them and is killed -9 (loss 2): its tasks die with it, they do not run on;
 * - contrib-c takes them and finishes them: the job succeeds, each task counted once;
 * - contrib-a thaws after the job ended: its copies are stopped at once, none finishes.
 * Each task waits for a gate of its worker's own, so which copy ends is the test's choice, not a race.
 */
describe('tasks lost twice, once to a contributor frozen past its lease', () => {
  let tcp: TestControlPlane;
  const dir = taskWritableDir('kumo-frozen-contrib-');
  const ledger = join(dir, 'ledger');
  const workers: Record<string, ServiceProcess> = {};

  beforeAll(async () => {
    tcp = await startTestControlPlane('frozen-contrib', {
      logger: createLogger({ name: 'frozen-contrib', level: 'warn' }),
      localPool: { max: 0 },
      leaseSeconds: 3,
    });
    // A pool only HTTPS workers serve: no Redis-side agent takes its tasks.
    expect((await tcp.api.put('/v1/pools/contrib', WORKERLESS_POOL)).status).toBe(201);
  }, FAULT_TIMEOUT_MS);
  afterAll(async () => {
    for (const w of Object.values(workers)) {
      if (w.proc.exitCode !== null || w.proc.signalCode !== null) continue;
      w.proc.kill('SIGCONT');
      await w.kill9();
    }
    await tcp.stop();
    rmSync(dir, { recursive: true, force: true });
  }, FAULT_TIMEOUT_MS);

  /** A contributor's machine: the worker with its own worker token and the API's address, nothing else of kumo's. */
  const contributor = async (name: string): Promise<ServiceProcess> => {
    const t = await tcp.api.post('/v1/tokens', { role: 'worker', name, pool: 'contrib' });
    expect(t.status).toBe(201);
    return (workers[name] = await spawnService('worker', {
      KUMO_WORKER_TOKEN: t.body.token,
      KUMO_CONTROL_URL: tcp.cp.url,
      KUMO_POOL: 'contrib',
      KUMO_WORKER_NAME: name,
      KUMO_SLOTS: String(TOTAL),
      KUMO_DRAIN_MS: '500',
    }));
  };
  /** Each ledger line: `<index> <worker> start|end|stop`. */
  const lines = (): string[] =>
    existsSync(ledger) ? readFileSync(ledger, 'utf8').trim().split('\n').filter(Boolean) : [];
  const linesOf = (worker: string, what: string): string[] => lines().filter((l) => l.endsWith(` ${worker} ${what}`));
  const startedOn = (worker: string, what: string): Promise<unknown> =>
    waitFor(async () => linesOf(worker, 'start').length === TOTAL || undefined, { timeoutMs: 60_000, what });

  it(
    'every task ends once, none is lost, and no copy runs on after its worker died or its job ended',
    async () => {
      const me = '"$KUMO_TASK_INDEX $KUMO_WORKER_ID';
      const script = `trap 'echo ${me} stop" >> "$LEDGER"; exit 143' TERM; echo ${me} start" >> "$LEDGER"; while [ ! -e "$GATE.$KUMO_WORKER_ID" ]; do sleep 0.05; done; echo ${me} end" >> "$LEDGER"`;
      const sub = await tcp.api.post('/v1/jobs', {
        kind: 'extraction',
        name: 'frozen-contrib',
        source: { snapshot: 'S', batches: TOTAL },
        pool: 'contrib',
        retry: { maxInfraRetries: 5 },
        env: { LEDGER: ledger, GATE: join(dir, 'gate') },
        run: { command: ['sh', '-c', script] },
      });
      expect(sub.status).toBe(201);
      const id = sub.body.id as string;

      const a = await contributor('contrib-a');
      await startedOn('contrib-a', 'both tasks to start on contrib-a');
      a.proc.kill('SIGSTOP');

      const b = await contributor('contrib-b');
      await startedOn('contrib-b', 'both tasks back from the frozen contrib-a, on contrib-b');
      await b.kill9();
      // Its tasks died with it: nothing of contrib-b's runs on beside the copies run next.
      await waitFor(async () => taskPids({ KUMO_JOB_ID: id, KUMO_WORKER_ID: 'contrib-b' }).length === 0 || undefined, {
        timeoutMs: 10_000,
        what: "contrib-b's task processes to end with it",
      });

      writeFileSync(join(dir, 'gate.contrib-c'), '');
      await contributor('contrib-c');
      const job = await waitForEnd(tcp.api, id, 60_000);
      expect(job.state).toBe('succeeded');
      expect(job.progress).toMatchObject({ total: TOTAL, succeeded: TOTAL, failed: 0, running: 0, queued: 0 });

      // The frozen contributor thaws with its job over: its copies stop on its first heartbeat.
      a.proc.kill('SIGCONT');
      await waitFor(
        async () =>
          (linesOf('contrib-a', 'stop').length === TOTAL &&
            taskPids({ KUMO_JOB_ID: id, KUMO_WORKER_ID: 'contrib-a' }).length === 0) ||
          undefined,
        { timeoutMs: 20_000, what: "contrib-a's copies to stop once it thawed" },
      );

      // Each task ended once, on contrib-c; no other copy ended, and nothing of the job runs.
      const ends = lines().filter((l) => l.endsWith(' end'));
      expect(ends.sort()).toEqual(['0 contrib-c end', '1 contrib-c end']);
      expect(linesOf('contrib-b', 'end')).toEqual([]);
      expect(taskPids({ KUMO_JOB_ID: id })).toEqual([]);
      expect((await tcp.api.get(`/v1/jobs/${id}`)).body.progress).toMatchObject({
        total: TOTAL,
        succeeded: TOTAL,
        failed: 0,
        running: 0,
      });
    },
    FAULT_TIMEOUT_MS,
  );
});
