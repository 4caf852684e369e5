import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnControlPlane, workerPids, stopProcess } from '../support/control-plane-process';
import { readLedger, reportLedgerFault, sleep, submitLedgerJob, waitForEnd } from '../support/faults';
import { client } from '../support/http';
import { testPrefix, deleteKeys } from '../support/prefix';
import { freePort } from '../support/redis-server';
import { waitFor } from '../support/wait';

/** Usually well under a minute; the ceiling is for a loaded two-core machine, where process start-up alone can take seconds. */
const FAULT_TIMEOUT_MS = 150_000;

const TOKEN = 'sigstop-admin-token-0123456789';
const TOTAL = 40;
const LOCK_MS = 3000;

/**
 * A worker that stops heartbeating but is not dead (a long GC pause, a VM frozen by live migration):
 * SIGSTOP past its task locks, so its tasks are taken back and run elsewhere, then SIGCONT, so it
 * finishes them too and reports late. Every task is counted once.
 */
describe('a frozen worker (SIGSTOP past the task lock, then SIGCONT) does not double-count', () => {
  const prefix = testPrefix('sigstop');
  const dir = mkdtempSync(join(tmpdir(), 'kumo-sigstop-'));
  // The tasks (their job's uid, not root) append to the ledger.
  chmodSync(dir, 0o777);
  const ledger = join(dir, 'ledger');
  let cp: Awaited<ReturnType<typeof spawnControlPlane>>;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    cp = await spawnControlPlane({
      REDIS_URL: inject('redisUrl'),
      PORT: String(port),
      KUMO_ADMIN_TOKEN: TOKEN,
      KUMO_PREFIX: prefix,
      KUMO_LOCAL_WORKERS: '2',
      KUMO_LOCAL_SLOTS: '4',
      KUMO_TASK_LOCK_MS: String(LOCK_MS),
      KUMO_DRAIN_MS: '500',
    });
  });
  afterAll(async () => {
    for (const pid of workerPids(cp.proc.pid!)) process.kill(pid, 'SIGCONT');
    await stopProcess(cp.proc);
    rmSync(dir, { recursive: true, force: true });
    await deleteKeys(prefix);
  });

  it(
    `a ${TOTAL}-task job ends with exactly ${TOTAL} succeeded though some tasks ran twice`,
    async () => {
      const api = client(`http://127.0.0.1:${port}`, TOKEN);
      const id = await submitLedgerJob(api, { name: 'sigstop', total: TOTAL, ledger, then: 'sleep 2' });
      const frozen = await waitFor(
        async () => {
          const j = (await api.get(`/v1/jobs/${id}`)).body;
          const pids = workerPids(cp.proc.pid!);
          return j.progress.running >= 6 && pids.length === 2 ? pids[0]! : undefined;
        },
        { timeoutMs: 30_000, what: 'two busy workers' },
      );
      process.kill(frozen, 'SIGSTOP');
      // Past the lock and BullMQ's stalled check (every lock/2), with room for the other worker to re-run them.
      await sleep(LOCK_MS * 2 + 2000);
      process.kill(frozen, 'SIGCONT');
      const job = await waitForEnd(api, id, 60_000);
      const runs = readLedger(ledger);
      const ranTwice = new Set(runs.filter((i, n) => runs.indexOf(i) !== n)).size;
      reportLedgerFault('worker-sigstop', job, runs, TOTAL, { runs: runs.length, ranTwice });
      // The fault did happen: some tasks of the frozen worker were run again elsewhere.
      expect(ranTwice).toBeGreaterThan(0);
    },
    FAULT_TIMEOUT_MS,
  );
});
